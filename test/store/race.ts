import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type StoreConfig } from '../../bot/store/connect';

/** What a racer does once let go; racer.ts describes each. */
export type RaceAction = 'open' | 'lock' | 'confirm' | 'deliver';

/**
 * Starts `count` racer processes (racer.ts) that get ready, then lets them go at once. Resolves with what
 * each printed, or rejects with the stderr of one that failed.
 */
export async function race<T>(action: RaceAction, config: StoreConfig, count: number): Promise<Array<T & { requestId: string }>> {
  const racer = join(__dirname, 'racer.ts');
  const children = Array.from({ length: count }, (_, i) =>
    spawn(process.execPath, ['--import', 'tsx', racer], {
      env: { ...process.env, RACE_ACTION: action, RACE_STORE_CONFIG: JSON.stringify(config), RACE_REQUEST_ID: `racer-${i}` },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  const outputs = children.map((child) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => stdout.includes('ready\n') && resolve());
      child.once('exit', (code) => reject(new Error(`racer exited ${code} before ready: ${stderr}`)));
    });
    const done = new Promise<T & { requestId: string }>((resolve, reject) => {
      child.once('exit', (code) => {
        const line = stdout.split('\n').find((l) => l.startsWith('{'));
        if (code === 0 && line) resolve(JSON.parse(line) as T & { requestId: string });
        else reject(new Error(`racer exited ${code}: ${stderr}`));
      });
    });
    return { ready, done };
  });
  try {
    await Promise.all(outputs.map((o) => o.ready));
    for (const child of children) child.stdin.write('go\n');
    return await Promise.all(outputs.map((o) => o.done));
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}
