/**
 * The cluster's local witness: the real corosync-qnetd started by the app (TLS off, its lock file
 * and IPC socket in the app's home), answering its own tool, kept when asked again with the same
 * settings, restarted with others, and stopped by its pid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qnetdArgv, qnetdClients, qnetdPid, qnetdStatus, startLocalQnetd, stopLocalQnetd } from '../../src-main/cluster/qnetd.js';

const dir = mkdtempSync(join(tmpdir(), 'qnetd-'));
afterAll(async () => {
  await stopLocalQnetd(dir);
  rmSync(dir, { recursive: true, force: true });
});

describe('local corosync-qnetd', () => {
  it('argv: TLS off, IPv4, its files in the home; inside a namespace through ip netns exec', () => {
    expect(qnetdArgv({ dir: '/h/cluster', address: '198.18.71.2', port: 5403 })).toEqual([
      'corosync-qnetd',
      '-f',
      '-s',
      'off',
      '-4',
      '-l',
      '198.18.71.2',
      '-p',
      '5403',
      '-S',
      'lock_file=/h/cluster/qnetd.pid,local_socket_file=/h/cluster/qnetd.sock',
    ]);
    expect(qnetdArgv({ dir: '/h/c', address: '10.0.0.1', port: 5403, netns: 'pc-client' }).slice(0, 5)).toEqual([
      'ip',
      'netns',
      'exec',
      'pc-client',
      'corosync-qnetd',
    ]);
    expect(() => qnetdArgv({ dir: '/h/a,b', address: '10.0.0.1', port: 5403 })).toThrow(/comma/);
  });

  it('starts, answers corosync-qnetd-tool, is kept when asked again, moves to another port, stops', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const pid = await startLocalQnetd({ dir, address: '127.0.0.1', port });
    expect(qnetdPid(dir)).toBe(pid);
    expect(await qnetdStatus(dir)).toMatch(new RegExp(`QNetd address:\\s+127\\.0\\.0\\.1:${port}\\b`));
    expect(await qnetdClients(dir)).toBe(''); // no cluster connected yet
    expect(await startLocalQnetd({ dir, address: '127.0.0.1', port })).toBe(pid);
    const moved = await startLocalQnetd({ dir, address: '127.0.0.1', port: port + 1 });
    expect(moved).not.toBe(pid);
    expect(await qnetdStatus(dir)).toContain(`127.0.0.1:${port + 1}`);
    expect(await stopLocalQnetd(dir)).toBe('stopped');
    expect(qnetdPid(dir)).toBeNull();
    expect(await stopLocalQnetd(dir)).toBe('not-running');
  });
});
