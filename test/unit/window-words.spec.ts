import { describe, expect, it } from 'vitest';
import { commands } from '../../src-main/contract/index.js';
import { inWindowWords, splitFix, windowError } from '../../src-renderer/lib/window-words.js';

describe('errors in the window’s own words', () => {
  it('a refused input names the field and the button, and keeps the CLI only as the terminal alternative', () => {
    const e = windowError({
      code: 'bad-request',
      message: 'Invalid cidr for hosts.discover: an IPv4 network from /16 to /32, like 192.168.1.0/24.',
      cause: 'cidr: an IPv4 network from /16 to /32, like 192.168.1.0/24',
      fix: 'See `lockstep hosts discover --help` for the accepted values.',
    });
    expect(e.message).toBe('“Network to scan” (Scan): must be an IPv4 network from /16 to /32, like 192.168.1.0/24.');
    expect(e.fix).toBe('Correct “Network to scan”, then press Scan again.');
    expect(e.terminal).toBe('lockstep hosts discover --help');
    expect(e.cause).toBeUndefined();
  });

  it('no command id of the contract survives in a message', () => {
    for (const id of Object.keys(commands)) {
      const said = inWindowWords(`Run ${id} first.`);
      expect(said, id).not.toContain(id);
    }
  });

  it('splits fixes: window part, terminal part', () => {
    expect(splitFix('Use a free /30 such as 10.99.0.4/30 (the Link page’s subnet field, or `lockstep link setup --subnet 10.99.0.4/30`).')).toEqual({
      window: 'Use a free /30 such as 10.99.0.4/30 (the Link page’s subnet field).',
      terminal: 'lockstep link setup --subnet 10.99.0.4/30',
    });
    expect(splitFix('To move it to 10.99.0.4/30: lockstep link remove, then lockstep link setup hostA hostB --subnet 10.99.0.4/30')).toEqual({
      terminal: 'lockstep link remove, then lockstep link setup hostA hostB --subnet 10.99.0.4/30',
    });
    expect(splitFix('Protect the guest first (Setup → Protect).')).toEqual({ window: 'Protect the guest first (Setup → Protect).' });
  });

  it('an error whose fix is a button says which button; the step id is not shown', () => {
    const e = windowError({
      code: 'link-exists',
      message: 'The link between hostA and hostB is already set up on 10.99.0.0/30.',
      fix: 'To move it to 10.99.0.4/30: lockstep link remove, then lockstep link setup hostA hostB --subnet 10.99.0.4/30',
      step: 'link-subnet',
    });
    expect(e.fix).toContain('Remove the link…');
    expect(JSON.stringify(e)).not.toContain('link-subnet');
    expect(e.terminal).toContain('lockstep link remove');
  });
});
