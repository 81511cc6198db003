import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const REPO = path.resolve(__dirname, '..', '..');

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function acceptsConnections(port: number): Promise<boolean> {
  const socket = net.connect({ host: '127.0.0.1', port });
  try {
    return await new Promise<boolean>((resolve) =>
      socket.once('connect', () => resolve(true)).once('error', () => resolve(false)),
    );
  } finally {
    socket.destroy();
  }
}

describe('ch-backfill dev-server', () => {
  it('serves the pinned dev server with the backfill search attributes until Ctrl-C, then stops it', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const dbFile = path.join(mkdtempSync(path.join(tmpdir(), 'dev-server-')), 'temporal.db');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/bin/cli.ts',
        'dev-server',
        '--port',
        `${port}`,
        '--ui-port',
        `${uiPort}`,
        '--db-file',
        dbFile,
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 300 && !out.includes('Web UI'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain(`gRPC     127.0.0.1:${port}`);
      expect(out).toContain(`Web UI   http://127.0.0.1:${uiPort}`);

      const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        const { INDEXED_VALUE_TYPE_KEYWORD, INDEXED_VALUE_TYPE_KEYWORD_LIST } = temporal.api.enums.v1.IndexedValueType;
        expect(customAttributes).toMatchObject({
          BackfillTarget: INDEXED_VALUE_TYPE_KEYWORD,
          BackfillPartitions: INDEXED_VALUE_TYPE_KEYWORD_LIST,
        });
      } finally {
        await connection.close();
      }
      expect(existsSync(dbFile)).toBe(true);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('Temporal dev server stopped.');
    expect(await acceptsConnections(port)).toBe(false);
  });
});
