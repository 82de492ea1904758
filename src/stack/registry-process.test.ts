import { describe, expect, it } from 'vitest';
import { registryChildEnv } from './registry-process.js';

const NONE = {
  kafkaSsl: 'auto',
  kafkaSslCa: '',
  kafkaSslCert: '',
  kafkaSslKey: '',
  kafkaSaslMechanism: 'none',
  kafkaSaslUsername: '',
  kafkaSaslPassword: '',
  kafkaSaslPasswordFile: '',
} as const;

describe('the registry child’s environment', () => {
  it('carries the Kafka security kappa resolved, flags included, and the token', () => {
    const env = registryChildEnv(
      { PATH: '/bin', KAPPA_REGISTRY_TOKEN_FILE: '/t' },
      {
        token: 'tok',
        security: {
          ...NONE,
          kafkaSslCa: '/etc/ca.pem',
          kafkaSaslMechanism: 'scram-sha-512',
          kafkaSaslUsername: 'kappa',
          kafkaSaslPasswordFile: '/run/secrets/kafka',
        },
      },
    );
    expect(env).toEqual({
      PATH: '/bin',
      KAPPA_REGISTRY_TOKEN: 'tok',
      KAPPA_KAFKA_SSL_CA: '/etc/ca.pem',
      KAPPA_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAPPA_KAFKA_SASL_USERNAME: 'kappa',
      KAPPA_KAFKA_SASL_PASSWORD_FILE: '/run/secrets/kafka',
    });
  });

  it('replaces inherited settings: the parent’s password is not the one kappa resolved', () => {
    const env = registryChildEnv(
      { KAPPA_KAFKA_SASL_PASSWORD: 'old', KAPPA_KAFKA_SASL_USERNAME: 'old', KAPPA_KAFKA_SSL: 'off' },
      { security: { ...NONE, kafkaSaslMechanism: 'plain', kafkaSaslUsername: 'u', kafkaSaslPassword: 'new' } },
    );
    expect(env).toEqual({
      KAPPA_KAFKA_SASL_MECHANISM: 'plain',
      KAPPA_KAFKA_SASL_USERNAME: 'u',
      KAPPA_KAFKA_SASL_PASSWORD: 'new',
    });
  });

  it('is plaintext without security (the local stack), whatever the shell holds for another cluster', () => {
    const env = registryChildEnv(
      {
        HOME: '/h',
        KAPPA_KAFKA_SSL: 'on',
        KAPPA_KAFKA_SSL_CA: '/ca',
        KAPPA_KAFKA_SASL_MECHANISM: 'plain',
        KAPPA_KAFKA_SASL_USERNAME: 'u',
        KAPPA_KAFKA_SASL_PASSWORD: 'p',
        KAPPA_REGISTRY_TOKEN: 'inherited',
      },
      {},
    );
    expect(env).toEqual({ HOME: '/h' });
  });
});
