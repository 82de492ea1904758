import { describe, expect, it } from 'vitest';
import { javaClientProperties } from './java-client-config.js';

/** What java.util.Properties reads back from `text` (the escapes this file uses). */
function load(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const at = line.indexOf('=');
        const value = line.slice(at + 1).replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
        return [line.slice(0, at), value];
      }),
  );
}

describe('javaClientProperties', () => {
  it('is empty for plaintext', () => {
    expect(javaClientProperties(undefined)).toBe('');
  });

  it('maps TLS with a CA and a client certificate to inline PEM, newlines escaped', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n';
    const text = javaClientProperties({ ssl: { ca: pem, cert: pem, key: 'KEY\nZZ' } });
    expect(text.split('\n').filter(Boolean)).toHaveLength(6);
    expect(load(text)).toEqual({
      'security.protocol': 'SSL',
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.certificates': pem,
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.certificate.chain': pem,
      'ssl.keystore.key': 'KEY\nZZ',
    });
  });

  it('maps SASL SCRAM over TLS trusting the system CAs, quoting the JAAS values', () => {
    const text = javaClientProperties({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'kappa', password: 'pa"ss\\word' },
    });
    expect(load(text)).toEqual({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="kappa" password="pa\\"ss\\\\word";',
    });
  });

  it('maps SASL PLAIN without TLS to SASL_PLAINTEXT', () => {
    const text = javaClientProperties({ sasl: { mechanism: 'plain', username: 'u', password: 'p' } });
    expect(load(text)['security.protocol']).toBe('SASL_PLAINTEXT');
    expect(load(text)['sasl.jaas.config']).toMatch(/^org\.apache\.kafka\.common\.security\.plain\.PlainLoginModule /);
  });
});
