import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintOfPublicKeyLine } from '../../src-main/hosts/fingerprint.js';
import { knownFingerprints, knownHostsName } from '../../src-main/hosts/known-hosts.js';
import { parseSshConfig } from '../../src-main/hosts/ssh-config.js';
import { quoteArg, shellCommand } from '../../src-main/hosts/shell-quote.js';

// a real ed25519 public key (generated for this test) and its fingerprint per `ssh-keygen -lf`
const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIOsKdsGzA2pYw5Waf5fGyL1qDvlx9KONUN6G/DnRRHsC';
const OTHER = 'AAAAC3NzaC1lZDI1NTE5AAAAIDz3A1HgI0PokfeKsvKZ+af6CNgTfWKKG4aMH2aOjnOl';
const fp = 'SHA256:YzMipSuycpn0Ibb4HM/FL6yNkPk4leVn0YEREMoa+c4';

function hashed(name: string): string {
  const salt = Buffer.from('0123456789abcdef0123');
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('computes the same SHA256 fingerprint as ssh-keygen -lf', () => {
    expect(fingerprintOfPublicKeyLine(`ssh-ed25519 ${KEY} comment`)).toBe(fp);
  });

  it('names a host the way OpenSSH does', () => {
    expect(knownHostsName('10.0.0.1', 22)).toBe('10.0.0.1');
    expect(knownHostsName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('finds plain, comma-listed and hashed entries, for the right port only', () => {
    const text = [
      '# comment',
      `10.0.0.9,10.0.0.1 ssh-ed25519 ${KEY}`,
      `[10.0.0.1]:2222 ssh-ed25519 ${OTHER}`,
      `${hashed('[10.0.0.2]:2200')} ssh-ed25519 ${KEY}`,
      `@cert-authority * ssh-ed25519 ${OTHER}`,
    ].join('\n');
    expect(knownFingerprints(text, '10.0.0.1', 22).keys).toEqual([{ type: 'ssh-ed25519', fingerprint: fp }]);
    expect(knownFingerprints(text, '10.0.0.1', 2222).keys.map((k) => k.fingerprint)).not.toContain(fp);
    expect(knownFingerprints(text, '10.0.0.2', 2200).keys).toEqual([{ type: 'ssh-ed25519', fingerprint: fp }]);
    expect(knownFingerprints(text, '10.0.0.3', 22).keys).toEqual([]);
  });

  it('reports @revoked keys separately', () => {
    const r = knownFingerprints(`@revoked 10.0.0.1 ssh-ed25519 ${KEY}`, '10.0.0.1', 22);
    expect(r).toEqual({ keys: [], revoked: [fp] });
  });
});

describe('ssh_config', () => {
  it('lists concrete hosts with their address, port, user and key; skips patterns and Match blocks', () => {
    const hosts = parseSshConfig(
      [
        'Host kvm1 kvm1-alias',
        '  HostName 192.168.1.10',
        '  Port 2222',
        '  User admin',
        '  IdentityFile ~/.ssh/lab',
        'Host *.corp',
        '  User x',
        'Match all',
        '  Port 1',
        'Host kvm2',
        '  Hostname=192.168.1.11',
      ].join('\n'),
      '/home/u',
    );
    expect(hosts).toEqual([
      { alias: 'kvm1', hostName: '192.168.1.10', port: 2222, user: 'admin', identityFile: '/home/u/.ssh/lab' },
      { alias: 'kvm1-alias', hostName: '192.168.1.10', port: 2222, user: 'admin', identityFile: '/home/u/.ssh/lab' },
      { alias: 'kvm2', hostName: '192.168.1.11', port: 22 },
    ]);
  });
});

describe('the one shell-quoting function', () => {
  it('leaves safe words alone and single-quotes everything else', () => {
    expect(shellCommand(['ip', 'addr', 'replace', '10.99.0.1/30', 'dev', 'eth1'])).toBe('ip addr replace 10.99.0.1/30 dev eth1');
    expect(quoteArg('a;rm -rf /')).toBe(`'a;rm -rf /'`);
    expect(quoteArg("it's")).toBe(`'it'\\''s'`);
    expect(quoteArg('$(reboot)')).toBe(`'$(reboot)'`);
    expect(quoteArg('')).toBe(`''`);
  });
  it('refuses control characters', () => {
    expect(() => quoteArg('a\nb')).toThrow(/control character/);
    expect(() => quoteArg('a\0b')).toThrow(/control character/);
  });
});
