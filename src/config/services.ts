/**
 * Services the admin can name in SERVICES without spelling out ports: the seed's own (ssh, ftp, web, smtp)
 * plus the usual neighbours. SSH alone carries the seed's defences by default: the kernel hit-rate limiter
 * (3 new connections in 180 s) and a fail2ban ban list with the sshd filter.
 */
export interface ServiceDefaults {
  readonly ports: readonly string[];
  readonly protos: readonly ('tcp' | 'udp')[];
  readonly rateLimit?: string;
  readonly bans?: boolean;
  readonly filter?: string;
  /** Connection-tracking helper for the service's TCP ports (FTP's passive data connections). */
  readonly helper?: string;
}

export const KNOWN_SERVICES: Readonly<Record<string, ServiceDefaults>> = {
  ssh: { ports: ['22'], protos: ['tcp'], rateLimit: '3/180', bans: true, filter: 'sshd' },
  ftp: { ports: ['21'], protos: ['tcp'], filter: 'vsftpd', helper: 'ftp' },
  web: { ports: ['80', '443'], protos: ['tcp'], filter: 'apache-auth' },
  http: { ports: ['80'], protos: ['tcp'], filter: 'apache-auth' },
  https: { ports: ['443'], protos: ['tcp'], filter: 'apache-auth' },
  smtp: { ports: ['25'], protos: ['tcp'], filter: 'postfix' },
  submission: { ports: ['587'], protos: ['tcp'], filter: 'postfix' },
  imap: { ports: ['143', '993'], protos: ['tcp'], filter: 'dovecot' },
  pop3: { ports: ['110', '995'], protos: ['tcp'], filter: 'dovecot' },
  dns: { ports: ['53'], protos: ['tcp', 'udp'], filter: 'named-refused' },
  ntp: { ports: ['123'], protos: ['udp'] },
};
