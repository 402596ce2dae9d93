import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../agent/util/listen-address.ts';

describe('parseListenAddress', () => {
  it('host:port, an IPv6 host in brackets, or off', () => {
    expect(parseListenAddress('0.0.0.0:9680')).toEqual({ host: '0.0.0.0', port: 9680 });
    expect(parseListenAddress('[::]:9681')).toEqual({ host: '::', port: 9681 });
    expect(parseListenAddress('worker-1.example.org:65535')).toEqual({ host: 'worker-1.example.org', port: 65535 });
    expect(parseListenAddress('off')).toBe('off');
    expect(parseListenAddress(' ')).toBe('off');
  });

  it.each(['0.0.0.0:0', '0.0.0.0:65536', '9680', 'host:', ':9680', 'a b:80', 'http://host:80'])('refuses %j', (value) => {
    expect(parseListenAddress(value)).toBe('invalid');
  });
});
