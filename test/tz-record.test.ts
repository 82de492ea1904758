import { describe, expect, it } from 'vitest';
import { MySqlSink } from '../src/aggregates/mysql-sink.js';
import { versionSettings } from '../src/model/version-settings.js';
import { Catalog } from '../src/recovery/catalog.js';
import { kappaAsync } from './support/cli.js';
import { createTestTopic, testKafka, useTestContext } from './support/context.js';
import { sqlRows } from './support/mariadb.js';

const context = useTestContext('tz-record');

const sql = <T>(query: string, values: unknown[] = []) => sqlRows<T>(context.mysqlUrl, query, values);

describe('the time-zone database a version was created with (real MariaDB, real broker)', () => {
  it('is recorded beside its time zone, kept, and a different one is warned of by status and listed by the catalog', async () => {
    const topic = context.topic('stages');
    const admin = testKafka(context).admin();
    await admin.connect();
    try {
      await createTestTopic(admin, topic, 1);
    } finally {
      await admin.disconnect();
    }
    const settings = versionSettings({
      window: 10_000,
      slide: 10_000,
      watermarkDelay: 15_000,
      timeZone: 'Europe/Dublin',
      topicStages: topic,
    });
    const sink = await MySqlSink.open(context.mysqlUrl, 'v1', topic);
    try {
      expect(await sink.prepare({ version: 'v1', settings })).toEqual({ tzVersion: process.versions.tz });
      expect(await sql('SELECT time_zone, tz_version FROM kappa_versions')).toEqual([
        { time_zone: 'Europe/Dublin', tz_version: process.versions.tz },
      ]);
      // As if created by a Node of an older release: a restart keeps what was recorded and reports it.
      await sql("UPDATE kappa_versions SET tz_version = '2019a'");
      expect(await sink.prepare({ version: 'v1', settings })).toEqual({ tzVersion: '2019a' });
    } finally {
      await sink.close();
    }

    const catalog = await Catalog.open(context.mysqlUrl);
    try {
      expect(await catalog.tzDrifts()).toEqual([{ version: 'v1', recorded: '2019a', running: process.versions.tz }]);
      expect(await catalog.tzDrifts('2019a')).toEqual([]);
    } finally {
      await catalog.close();
    }

    const env = { KAPPA_KAFKA_BROKERS: context.brokers.join(','), KAPPA_MYSQL_URL: context.mysqlUrl };
    const status = await kappaAsync(['status', '--json', '--log-format', 'json'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject([{ version: 'v1', tzVersion: '2019a' }]);
    expect(status.stderr).toContain(
      `job version v1 was created with time-zone database 2019a, this Node has ${process.versions.tz}`,
    );

    // A version created before kappa recorded the release: unknown, nothing to warn of.
    await sql('UPDATE kappa_versions SET tz_version = NULL');
    const unknown = await kappaAsync(['status', '--log-format', 'json'], env);
    expect(unknown.code, unknown.stderr).toBe(0);
    expect(unknown.stderr).not.toContain('time-zone database');
  });
});
