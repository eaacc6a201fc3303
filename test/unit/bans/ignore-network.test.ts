/**
 * fail2ban's ignoreip follows the friends the rules accept (issue 16 item 7): IPv6's local subnets join IPv4's
 * under IPV6=mirror, and a host with IPv6 only has no MYIP or IPv4 subnet to list.
 */
import { expect, test } from 'vitest';
import { ignoreList } from '../../../src/bans/conf.js';
import { MULTI_HOST, V6_ONLY_HOST } from '../backend/network-cases.js';
import { config } from '../fixtures.js';

test('IPv6 local subnets are ignored where the rules trust them', () => {
  expect(ignoreList(config('IPV6=mirror'), MULTI_HOST)).toContain('2001:db8:1::/64');
  expect(ignoreList(config('IPV6=drop'), MULTI_HOST)).not.toContain('2001:db8:1::/64');
  expect(ignoreList(config('IPV6=mirror\nTRUST_LOCAL_SUBNET=no'), MULTI_HOST)).not.toContain('2001:db8:1::/64');
});

test('a host with IPv6 only: its own addresses and subnet, nothing of IPv4 but loopback', () => {
  expect(ignoreList(config('IPV6=mirror'), V6_ONLY_HOST)).toEqual(['127.0.0.1/8', '::1', '2001:db8:1::10', '2001:db8:1::/64']);
});
