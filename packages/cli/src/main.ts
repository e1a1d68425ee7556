#!/usr/bin/env node
/**
 * The `keepvip` command. `run` first re-executes itself with the daemon's V8 settings
 * (v8-flags.ts); the program is imported only after that, so nothing is loaded twice.
 */
import { relaunchArgs } from './v8-flags.js';

const relaunch = relaunchArgs(process.execPath, process.argv, process.execArgv, process.env);
// execve is Node 23.11+; without it the daemon runs on Node's defaults.
if (relaunch !== undefined && process.execve !== undefined) process.execve(process.execPath, relaunch, process.env);

const { main } = await import('./program.js');
await main(process.argv);
