/** Runs the nft command: a script as one transaction (`nft -f -`), or a listing. */
import { spawn } from 'node:child_process';
import { LinuxNetError } from '../errors.js';

export class NftError extends LinuxNetError {
  constructor(message: string) {
    super('ENFT', message);
    this.name = 'NftError';
  }
}

/** nft with these arguments and `stdin`; resolves with stdout, or rejects with stderr in the error. */
export function runNft(nft: string, args: readonly string[], stdin = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(nft, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => reject(new NftError(`cannot run ${nft}: ${error.message}`)));
    child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new NftError(`nft ${args.join(' ')} failed (${code}): ${stderr.trim()}`))));
    // An nft that exits before reading (a bad option) is reported by its exit code, not EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/** One nft transaction: the kernel applies the whole script or none of it. */
export async function runNftScript(nft: string, script: string): Promise<void> {
  await runNft(nft, ['-f', '-'], script);
}
