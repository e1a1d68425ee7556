#!/usr/bin/env node
/**
 * The `keepvip` command. Node's runtime settings (V8 flags) are the caller's: the image's
 * entrypoint gives the daemon its own (daemonset/Dockerfile, docs/operations.md).
 */
import { main } from './program.js';

await main(process.argv);
