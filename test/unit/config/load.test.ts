import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { GLOBAL_KEYS, SERVICE_FIELDS } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';

function problems(text: string): string {
  try {
    parseConfig(text, '/etc/default/tsfirewall');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(6);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('the embedded default', () => {
  test('an empty file reproduces the seed: ssh behind limiter and bans, ftp, web, smtp closed', () => {
    const { config, warnings } = parseConfig('');
    expect(warnings).toEqual([]);
    expect(config.services.map((s) => s.name)).toEqual(['ssh', 'ftp', 'web']);
    const ssh = config.services[0]!;
    expect(ssh).toMatchObject({ ports: ['22'], protos: ['tcp'], from: [], bans: 'SSH' });
    expect(ssh.rateLimit).toEqual({ hitcount: 3, seconds: 180, name: 'SSH' });
    expect(config.services[2]!.ports).toEqual(['80', '443']);
    expect(config.services[1]!.rateLimit).toBeUndefined();
    expect(config).toMatchObject({ trustLocalSubnet: true, dropNotForMe: true, antiSpoofing: true, ipv6: 'drop', banMode: 'auto' });
    expect(config.modules).toEqual(['nf_conntrack_ftp', 'nf_nat']);
  });
});

describe('values', () => {
  test('lists, quoting and per-service keys', () => {
    const { config } = parseConfig([
      'TRUSTED_NETS="163.1.2.0/24, 198.51.100.7 2001:db8::/32"',
      'SERVICES=ssh smtp custom',
      'SERVICE_SMTP_FROM=198.51.100.0/24',
      'SERVICE_CUSTOM_PORTS=6000-6010 7000',
      'SERVICE_CUSTOM_PROTO=tcp,udp',
      'SERVICE_SSH_RATE_LIMIT=5/60s',
      'SERVICE_SSH_LOG_PREFIX=SSH before hitcounter',
      'NETMASK=255.255.252.0',
      'MYIP=192.0.2.10',
    ].join('\n'));
    expect(config.trustedNets).toEqual(['163.1.2.0/24', '198.51.100.7/32', '2001:db8::/32']);
    expect(config.netmask).toBe(22);
    const [ssh, smtp, custom] = config.services;
    expect(ssh!.rateLimit).toEqual({ hitcount: 5, seconds: 60, name: 'SSH' });
    expect(ssh!.logPrefix).toBe('SSH before hitcounter');
    expect(smtp!.from).toEqual(['198.51.100.0/24']);
    expect(smtp!.bans).toBeUndefined();
    expect(custom).toMatchObject({ ports: ['6000:6010', '7000'], protos: ['tcp', 'udp'] });
  });

  test.each([
    ['no', undefined], ['yes', { rate: '3/minute', burst: 10 }], ['10/min', { rate: '10/minute', burst: 10 }],
    [' 1 / s ', { rate: '1/second', burst: 10 }], ['200/Hour', { rate: '200/hour', burst: 10 }],
  ])('LOG_DROPPED=%j: the rate in the words iptables-save prints', (raw, expected) => {
    expect(parseConfig(`LOG_DROPPED=${raw}`).config.logDropped).toEqual(expected);
  });

  test('host bits of a network are cleared, as iptables would', () => {
    expect(parseConfig('TRUSTED_NETS=192.0.2.77/24').config.trustedNets).toEqual(['192.0.2.0/24']);
  });
});

describe('errors name the key, the line and what was expected', () => {
  test.each([
    ['TRUSTED_NETS=300.1.2.0/24', /line 1: TRUSTED_NETS: expected an IP address or network/],
    ['\nSERVICES=ssh\nSERVICE_SSH_PORTS=70000', /line 3: SERVICE_SSH_PORTS: expected a port 1-65535/],
    ['SERVICE_SSH_PROTO=sctp', /SERVICE_SSH_PROTO: expected one of tcp, udp, got "sctp"/],
    ['SERVICE_SSH_RATE_LIMIT=30/60', /hits 1-20/],
    ['SERVICES=ssh gopher', /service "gopher" is not built in; set SERVICE_GOPHER_PORTS/],
    ['IPV6=maybe', /IPV6: expected one of drop, drop-inbound, mirror, off/],
    ['INTERFACE=eth0;reboot', /INTERFACE: expected an interface name/],
    ['SERVICE_SSH_LOG_PREFIX="a$(reboot)"', /SERVICE_SSH_LOG_PREFIX: expected up to 28/],
    ['MYIP=192.0.2.10', /MYIP: is set, so NETMASK must be set too/],
    ['SNAT_TO=192.0.2.10', /SNAT_TO: is set, so SNAT_INTERFACE must be set too/],
    ['SERVICES=ssh ssh', /SERVICES: lists ssh more than once/],
    ['just some words', /line 1: expected KEY=VALUE/],
    ['TRUSTED_NETS="192.0.2.0/24\n198.51.100.0/24"', /opens a quote that is not closed/],
    ['SERVICE_SSH_BAN_NAME=this-name-is-far-too-long', /SERVICE_SSH_BAN_NAME: expected 1-19/],
    ['LOG_DROPPED=20000/second', /LOG_DROPPED: expected yes, no or a rate like 3\/minute \(1-10000 per/],
    ['LOG_DROPPED=3/fortnight', /LOG_DROPPED: expected yes, no or a rate like 3\/minute/],
  ])('%j', (text, message) => {
    expect(problems(text)).toMatch(message);
  });

  test('duplicate keys are refused with both lines', () => {
    expect(problems('IPV6=drop\n# comment\nIPV6=mirror')).toMatch(/line 3: IPV6: set twice \(first on line 1\)/);
  });

  test('every problem is reported at once', () => {
    const message = problems('IPV6=maybe\nALLOW_PING=perhaps\nBACKEND=iptables');
    expect(message.split('\n')).toHaveLength(3);
  });
});

describe('warnings do not stop the firewall', () => {
  test('an unknown key suggests the closest known one', () => {
    const { warnings } = parseConfig('TRUSTED_NET=192.0.2.0/24', '/etc/default/tsfirewall');
    expect(warnings).toEqual([expect.stringMatching(/tsfirewall:1: unknown key TRUSTED_NET; ignored \(did you mean TRUSTED_NETS\?\)/)]);
  });

  test('keys for a service that is not enabled are pointed out', () => {
    const { warnings } = parseConfig('SERVICE_SMTP_FROM=198.51.100.0/24');
    expect(warnings).toEqual([expect.stringMatching(/SERVICE_SMTP_FROM is set but service smtp is not in SERVICES/)]);
  });
});

describe('a bad value is quoted short, whatever its size (a 1 MB value must not land whole in the journal)', () => {
  const huge = 'x'.repeat(1_000_000);
  const keys = [...Object.keys(GLOBAL_KEYS), ...Object.keys(SERVICE_FIELDS).map((f) => `SERVICE_SSH_${f}`)];

  test.each(keys)('%s', (key) => {
    const message = problems(`${key}=${huge}\n`);
    expect(message.length).toBeLessThan(400);
    expect(message).toContain(`line 1: ${key}: `);
    expect(message).toContain(`"${'x'.repeat(60)}…" (1000000 bytes)`);
  });

  test('a line that is no assignment at all', () => {
    const message = problems(`${huge}\n`);
    expect(message.length).toBeLessThan(400);
    expect(message).toContain(`line 1: expected KEY=VALUE or a # comment, got "${'x'.repeat(60)}…" (1000000 bytes)`);
  });

  test('sizes are bytes, the cut is at a character (never inside one), short values are quoted whole', () => {
    expect(problems(`TRUSTED_NETS=${'é'.repeat(100)}`)).toContain(`got "${'é'.repeat(60)}…" (200 bytes)`);
    expect(problems(`TRUSTED_NETS=${'😀'.repeat(61)}`)).toContain(`got "${'😀'.repeat(60)}…" (244 bytes)`);
    expect(problems(`TRUSTED_NETS=${'y'.repeat(60)}`)).toMatch(/got "y{60}"$/);
  });

  test('control characters in a quoted value are escaped, not written to the terminal or journal', () => {
    const message = problems('INTERFACE="eth0\x1b[2J"\n');
    expect(message).toContain('got "eth0\\u001b[2J"');
    expect(message).not.toMatch(/\x1b/);
  });
});
