// End-to-end: the official InfluxDB JavaScript client talks to the thin
// front end in examples/frontend, which asks influx_tokens about every
// token.  Needs a PostgreSQL server with the extension installed (PG*
// environment variables, a superuser); test/e2e/run.sh provides one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import pg from 'pg';
import { InfluxDB, HttpError, setLogger } from '@influxdata/influxdb-client';
import { BucketsAPI, AuthorizationsAPI, HealthAPI } from '@influxdata/influxdb-client-apis';

const here = path.dirname(fileURLToPath(import.meta.url));
const frontendDir = path.resolve(here, '../../examples/frontend');
const port = 18086 + Math.floor(Math.random() * 1000);
const url = `http://127.0.0.1:${port}`;
const admin = new pg.Client();
const tokens = {};
let server;
let orgID;

// An imported InfluxDB 2 token, by plaintext, and InfluxDB's own hashed vector.
const influx2Token = 'Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw8-Qw==';
const hashedPlaintext = 'c27cb2033ab304629d32e1dbcd0ca7186322d3be98af5dd4c329ab800ef85d73';
const hashed = '$influxdb2-sha256$kMrC1MoFhWvvKSgyqpMaLuo2O3LINv4_XByCSkfV9K0=';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The client logs every failed write; the failures here are the point.
setLogger({ error() {}, warn() {} });

async function create(perms, opts = {}) {
  const { rows } = await admin.query(
    'SELECT influx_tokens.create_token($1, $2, $3, $4, $5) AS t',
    ['acme', perms, opts.description || null, '{}', opts.expires || null]);
  return rows[0].t;
}

async function writeLine(token, bucket, line) {
  const writeApi = new InfluxDB({ url, token }).getWriteApi('acme', bucket, 'ns', { maxRetries: 0, flushInterval: 0 });
  writeApi.writeRecord(line);
  await writeApi.close();
}

async function writeStatus(token, bucket) {
  try {
    await writeLine(token, bucket, `probe,host=a value=1 ${Date.now()}000000`);
    return 204;
  } catch (e) {
    if (e instanceof HttpError) return e.statusCode;
    throw e;
  }
}

async function points(bucket) {
  const { rows } = await admin.query('SELECT line FROM frontend.points WHERE bucket = $1 ORDER BY received_at, line', [bucket]);
  return rows.map((r) => r.line);
}

before(async () => {
  await admin.connect();
  await admin.query(`
    DROP SCHEMA IF EXISTS frontend, frontend_sql CASCADE;
    DROP EXTENSION IF EXISTS influx_tokens CASCADE;
    DROP ROLE IF EXISTS e2e_frontend;
    DROP ROLE IF EXISTS frontend_sql_reader;
    CREATE EXTENSION influx_tokens CASCADE;
    SELECT influx_tokens.create_org('acme');
    SELECT influx_tokens.create_bucket('acme', 'metrics');
    SELECT influx_tokens.create_bucket('acme', 'logs');
    SELECT influx_tokens.create_bucket('acme', 'secret');
  `);
  // The front end's tables and their policies, as its README says.
  await admin.query(fs.readFileSync(path.join(frontendDir, 'schema.sql'), 'utf8'));
  await admin.query(`
    -- The front end's own role: the checks, authenticate and the token forms
    -- (list_tokens_as, create_bucket_as, ...) are PUBLIC, so it needs no grant
    -- of the extension's; it reads and stores points as the policies allow.
    CREATE ROLE e2e_frontend LOGIN PASSWORD 'e2e-frontend-password';
    GRANT USAGE ON SCHEMA frontend TO e2e_frontend;
    GRANT SELECT, INSERT ON frontend.points TO e2e_frontend;
    GRANT frontend_sql_reader TO e2e_frontend;
  `);
  orgID = (await admin.query("SELECT influx_id AS id FROM influx_tokens.orgs WHERE name = 'acme'")).rows[0].id;
  tokens.writer = await create('{write:buckets/metrics}', { description: 'writer' });
  tokens.reader = await create('{read:buckets/metrics}', { description: 'reader' });
  tokens.readAll = await create('{read:buckets/metrics,read:buckets/logs}');
  tokens.revoked = await create('{write:buckets/metrics}');
  await admin.query('SELECT influx_tokens.revoke_token($1)', [tokens.revoked]);
  tokens.expired = await create('{write:buckets/metrics}', { expires: new Date(Date.now() + 300) });
  tokens.service = await create('{write:authorizations,read:authorizations,write:buckets,read:buckets}', { description: 'service' });
  await admin.query("SELECT influx_tokens.import_token('acme', $1, '{write:buckets/logs}', 'imported plaintext')", [influx2Token]);
  await admin.query("SELECT influx_tokens.import_token('acme', $1, '{write:buckets/logs}', 'imported hash')", [hashed]);

  server = spawn(process.execPath, [path.join(frontendDir, 'server.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', PGUSER: 'e2e_frontend', PGPASSWORD: 'e2e-frontend-password' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/ping`)).status === 204) break;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  await sleep(300); // the expired token's time runs out
});

after(async () => {
  server?.kill('SIGTERM');
  await admin.end();
});

test('health answers as InfluxDB does', async () => {
  const health = await new HealthAPI(new InfluxDB({ url })).getHealth();
  assert.equal(health.status, 'pass');
});

test('a write token writes, and the points are stored', async () => {
  await writeLine(tokens.writer, 'metrics', 'cpu,host=server01 usage=0.64 1700000000000000000');
  assert.deepEqual(await points('metrics'), ['cpu,host=server01 usage=0.64 1700000000000000000']);
});

test('writes fail the way InfluxDB fails', async () => {
  assert.equal(await writeStatus(tokens.reader, 'metrics'), 403, 'read-only token: forbidden');
  assert.equal(await writeStatus(tokens.writer, 'secret'), 404, 'a bucket the token cannot see: not found');
  assert.equal(await writeStatus(tokens.revoked, 'metrics'), 401, 'revoked token: unauthorized');
  assert.equal(await writeStatus(tokens.expired, 'metrics'), 401, 'expired token: unauthorized');
  assert.equal(await writeStatus('ixt_garbage', 'metrics'), 401, 'garbage token: unauthorized');
  assert.equal(await writeStatus(tokens.writer + 'x', 'metrics'), 401, 'mistyped token: unauthorized');
  assert.deepEqual(await points('metrics'), ['cpu,host=server01 usage=0.64 1700000000000000000'], 'nothing else was stored');
  assert.equal(await writeStatus(tokens.writer, 'metrics'), 204, 'and the writer still writes');
});

test('the error body is InfluxDB\'s', async () => {
  const res = await fetch(`${url}/api/v2/write?org=acme&bucket=metrics`, {
    method: 'POST', headers: { Authorization: 'Token nope-nope-nope-nope' }, body: 'm v=1',
  });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { code: 'unauthorized', message: 'unauthorized access' });
});

test('a Bearer header works like a Token header', async () => {
  const write = (scheme, token) => fetch(`${url}/api/v2/write?org=acme&bucket=metrics`, {
    method: 'POST', headers: { Authorization: `${scheme} ${token}` }, body: 'bearer,via=fetch v=1 1700000000000000009',
  });
  assert.equal((await write('Bearer', tokens.writer)).status, 204);
  assert.equal((await write('Bearer', tokens.reader)).status, 403);
  assert.equal((await write('Basic', tokens.writer)).status, 401, 'another scheme is not a token');
});

test('listing buckets shows only what the token may read', async () => {
  const names = async (token) =>
    ((await new BucketsAPI(new InfluxDB({ url, token })).getBuckets({ org: 'acme' })).buckets || []).map((b) => b.name).sort();
  assert.deepEqual(await names(tokens.reader), ['metrics']);
  assert.deepEqual(await names(tokens.readAll), ['logs', 'metrics']);
  assert.deepEqual(await names(tokens.writer), [], 'write never implies read');
  await assert.rejects(names(tokens.revoked), (e) => e instanceof HttpError && e.statusCode === 401);
});

test('imported InfluxDB tokens work unchanged, by plaintext and by hash', async () => {
  await writeLine(influx2Token, 'logs', 'log,app=a msg="plaintext" 1700000000000000001');
  await writeLine(hashedPlaintext, 'logs', 'log,app=b msg="hash" 1700000000000000002');
  assert.equal((await points('logs')).length, 2);
  assert.equal(await writeStatus(influx2Token, 'metrics'), 404);
});

// The fixtures of test/fixtures/influxdb: an operator token (influx setup's),
// an all-access token, a bucket read/write token and a disabled writer, as
// influx CLI's auth list --json, auth create --json and the REST body.
const fixtures = path.resolve(here, '../fixtures/influxdb');
const fixture = (name) => fs.readFileSync(path.join(fixtures, name), 'utf8');
const migrated = JSON.parse(fixture('tokens.json'));

async function importFixture(name, args = '') {
  await admin.query(`
    SELECT count(*) FROM influx_tokens.token_list AS l, LATERAL influx_tokens.delete_token(l.id)
    WHERE l.org IN ('influx-acme', 'influx-globex')`);
  const { rows: [{ n }] } = await admin.query(
    `SELECT influx_tokens.import_influxdb2($1::text,
       org_names => '{"1a2b3c4d5e6f7081": "influx-acme", "2a2b3c4d5e6f7082": "influx-globex"}',
       bucket_names => '{"3a2b3c4d5e6f7083": "telemetry", "5a2b3c4d5e6f7085": "sales"}',
       create_missing => true ${args}) AS n`, [fixture(name)]);
  return Number(n);
}

async function writeTo(token, org, bucket) {
  try {
    const writeApi = new InfluxDB({ url, token }).getWriteApi(org, bucket, 'ns', { maxRetries: 0, flushInterval: 0 });
    writeApi.writeRecord(`migrated,by=e2e value=1 ${Date.now()}000000`);
    await writeApi.close();
    return 204;
  } catch (e) {
    if (e instanceof HttpError) return e.statusCode;
    throw e;
  }
}

const bucketsOf = async (token, filter = {}) =>
  ((await new BucketsAPI(new InfluxDB({ url, token })).getBuckets(filter)).buckets || [])
    .map((b) => `${b.orgID === '1a2b3c4d5e6f7081' ? 'influx-acme' : b.orgID === '2a2b3c4d5e6f7082' ? 'influx-globex' : 'acme'}/${b.name}`)
    .sort();

for (const [shape, file, args] of [
  ['the REST body of GET /api/v2/authorizations', 'authorizations.rest.json', ''],
  ['influx auth list --json', 'auth-list.cli.json', ", org => 'influx-acme'"],
]) {
  test(`migrated from ${shape}: every token means what it meant in InfluxDB`, async () => {
    assert.equal(await importFixture(file, args), 4);
    assert.deepEqual(await bucketsOf(migrated.operator),
      ['acme/logs', 'acme/metrics', 'acme/secret', 'influx-acme/telemetry', 'influx-globex/sales'],
      'the operator token lists the buckets of every organization');
    assert.deepEqual(await bucketsOf(migrated.operator, { orgID: '2a2b3c4d5e6f7082' }), ['influx-globex/sales'],
      'filtered by an organization\'s InfluxDB ID');
    assert.deepEqual(await bucketsOf(migrated['all-access']), ['influx-acme/telemetry'],
      'the all-access token lists its own organization\'s');
    assert.equal(await writeTo(migrated['all-access'], 'influx-acme', 'telemetry'), 204, 'all-access writes its org\'s bucket');
    assert.equal(await writeTo(migrated['all-access'], '1a2b3c4d5e6f7081', 'telemetry'), 204, 'named by InfluxDB ID too');
    assert.equal(await writeTo(migrated['all-access'], 'influx-globex', 'sales'), 404, 'not another organization\'s');
    assert.equal(await writeTo(migrated['all-access'], 'acme', 'metrics'), 404, 'nor acme\'s');
    assert.equal(await writeTo(migrated.operator, 'influx-globex', 'sales'), 204, 'the operator writes anywhere');
    assert.equal(await writeTo(migrated.telemetry, 'influx-acme', 'telemetry'), 204, 'the bucket token writes its bucket');
    assert.equal(await writeTo(migrated.sales, 'influx-globex', 'sales'), 401, 'the disabled token is refused');
  });
}

test('migrated from influx auth create --json: the one token it printed', async () => {
  assert.equal(await importFixture('auth-create.cli.json'), 1);
  assert.equal(await writeTo(migrated.telemetry, '1a2b3c4d5e6f7081', 'telemetry'), 204);
  assert.deepEqual(await bucketsOf(migrated.telemetry), ['influx-acme/telemetry']);
  assert.equal(await writeTo(migrated.operator, 'influx-acme', 'telemetry'), 401, 'only that token was imported');
});

test('authorizations: a service token mints a token, without escalation', async () => {
  const api = new AuthorizationsAPI(new InfluxDB({ url, token: tokens.service }));
  const metricsId = (await admin.query(
    "SELECT influx_id AS id FROM influx_tokens.bucket_list WHERE name = 'metrics'")).rows[0].id;
  const created = await api.postAuthorizations({
    body: { orgID, description: 'device 7', permissions: [{ action: 'write', resource: { type: 'buckets', id: metricsId, orgID } }] },
  });
  assert.match(created.token, /^ixt_[0-9A-Za-z]{40}$/);
  assert.equal(created.description, 'device 7');
  await writeLine(created.token, 'metrics', 'cpu,host=device7 usage=1 1700000000000000003');
  assert.equal(await writeStatus(created.token, 'logs'), 404, 'the new token holds only what was asked');

  await assert.rejects(
    api.postAuthorizations({ body: { orgID, permissions: [{ action: 'read', resource: { type: 'orgs', orgID } }] } }),
    (e) => e instanceof HttpError && e.statusCode === 403, 'a permission the service does not hold: forbidden');
  await assert.rejects(
    api.postAuthorizations({ body: { orgID, permissions: [{ action: 'write', resource: { type: 'buckets/../orgs' } }] } }),
    (e) => e instanceof HttpError && e.statusCode === 400, 'not one of InfluxDB\'s resource types: invalid');
  await assert.rejects(
    api.postAuthorizations({ body: { orgID, permissions: [{ action: 'write', resource: { type: 'buckets' } }] } }),
    (e) => e instanceof HttpError && e.statusCode === 403, 'every organization\'s buckets (no orgID): forbidden');
  await assert.rejects(
    new AuthorizationsAPI(new InfluxDB({ url, token: tokens.writer })).postAuthorizations({
      body: { orgID, permissions: [{ action: 'write', resource: { type: 'buckets', id: metricsId, orgID } }] } }),
    (e) => e instanceof HttpError && e.statusCode === 401, 'a token without write:authorizations: unauthorized, as InfluxDB');

  const listed = await api.getAuthorizations({});
  const descriptions = listed.authorizations.map((a) => a.description);
  assert.ok(descriptions.includes('device 7') && descriptions.includes('writer'));
  assert.ok(listed.authorizations.every((a) => a.token === undefined), 'no token is ever listed');
});

test('the front end\'s role writes and reads points only through a token', async () => {
  const frontendRole = new pg.Client({ user: 'e2e_frontend', password: 'e2e-frontend-password' });
  await frontendRole.connect();
  try {
    await assert.rejects(
      frontendRole.query("INSERT INTO frontend.points (org, bucket, line) VALUES ('acme', 'metrics', 'forged v=1')"),
      (e) => e.code === '42501', 'no token current: the policy refuses the row');
    assert.equal((await frontendRole.query('SELECT count(*)::int AS n FROM frontend.points')).rows[0].n, 0,
      'no token current: no row is visible');
  } finally {
    await frontendRole.end();
  }
});

async function querySql(token, db, q) {
  const res = await fetch(`${url}/api/v3/query_sql?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}`,
    { headers: token ? { Authorization: `Token ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

test('SQL queries (InfluxDB 3 query_sql) see only what the token may read', async () => {
  const metrics = await points('metrics');
  const { status, body } = await querySql(tokens.reader, 'metrics', 'SELECT line FROM points ORDER BY received_at, line');
  assert.equal(status, 200);
  assert.deepEqual(body.map((r) => r.line), metrics, 'a reader of metrics reads its lines');
  assert.equal((await querySql(tokens.readAll, 'logs', 'SELECT count(*)::int AS n FROM points')).body[0].n,
    (await points('logs')).length, 'another token reads another database');
  assert.equal((await querySql(tokens.reader, 'logs', 'SELECT line FROM points')).status, 404,
    'a database the token cannot read does not exist for it');
  const everything = await querySql(tokens.reader, 'metrics', 'SELECT count(*)::int AS n FROM frontend.points');
  assert.equal(everything.body[0].n, metrics.length, 'naming the table itself shows no row of another bucket');
  assert.equal((await querySql(tokens.writer, 'metrics', 'SELECT line FROM points')).status, 404,
    'write never implies read');
  assert.equal((await querySql(tokens.reader, 'metrics', "DELETE FROM frontend.points")).status, 400,
    'the query runs read-only');
  assert.equal((await querySql(tokens.reader, 'metrics', 'SELECT 1; SELECT 2')).status, 400, 'one statement');
  assert.equal((await querySql(tokens.reader, 'metrics', 'SELECT * FROM influx_tokens.token_list')).status, 400,
    'the query role reads nothing but points');
  assert.equal((await querySql(tokens.revoked, 'metrics', 'SELECT 1')).status, 401, 'a revoked token: unauthorized');
  assert.equal((await querySql(null, 'metrics', 'SELECT 1')).status, 401, 'no token: unauthorized');
});

test('the front end\'s role holds no grant of the extension\'s', async () => {
  const frontendRole = new pg.Client({ user: 'e2e_frontend', password: 'e2e-frontend-password' });
  await frontendRole.connect();
  try {
    for (const relation of ['token_list', 'bucket_list', 'org_list', 'tokens', 'buckets', 'orgs']) {
      await assert.rejects(frontendRole.query(`SELECT * FROM influx_tokens.${relation}`),
        (e) => e.code === '42501', `influx_tokens.${relation} is not readable`);
    }
  } finally {
    await frontendRole.end();
  }
});

// The management API (AuthorizationsAPI, BucketsAPI), served only by the
// extension's token forms.
const authorizations = (token) => new AuthorizationsAPI(new InfluxDB({ url, token }));
const buckets = (token) => new BucketsAPI(new InfluxDB({ url, token }));
const refused = (promise, statusCode, message) =>
  assert.rejects(promise, (e) => e instanceof HttpError && e.statusCode === statusCode, message);
const bucketId = async (name) =>
  (await admin.query("SELECT influx_id FROM influx_tokens.bucket_list WHERE org = 'acme' AND name = $1", [name])).rows[0].influx_id;
const tokenId = async (token) =>
  (await admin.query("SELECT lpad(to_hex(id), 16, '0') AS id FROM influx_tokens.token_info($1)", [token])).rows[0].id;
const bucketWriter = (bucketID, description) => ({
  orgID, description, permissions: [{ action: 'write', resource: { type: 'buckets', id: bucketID, orgID } }],
});

test('management API: a service token runs a bucket and its writer from creation to deletion', async () => {
  const auths = authorizations(tokens.service);
  const bucketsApi = buckets(tokens.service);
  const bucket = await bucketsApi.postBuckets({ body: { orgID, name: 'devices', retentionRules: [] } });
  assert.equal(bucket.name, 'devices');
  assert.equal(bucket.orgID, orgID);
  assert.match(bucket.id, /^[0-9a-f]{16}$/);
  assert.equal(bucket.id, await bucketId('devices'), 'the extension\'s bucket, by its InfluxDB ID');
  assert.deepEqual((await bucketsApi.getBuckets({ orgID })).buckets.map((b) => b.name).sort(),
    ['devices', 'logs', 'metrics', 'secret']);
  assert.equal((await bucketsApi.getBucketsID({ bucketID: bucket.id })).name, 'devices');
  await refused(bucketsApi.postBuckets({ body: { orgID, name: 'devices' } }), 422, 'a name taken: conflict');
  assert.equal(await writeTo(tokens.service, orgID, bucket.id), 204, 'the bucket\'s write link: org and bucket by ID');

  const writer = await auths.postAuthorizations({ body: bucketWriter(bucket.id, 'devices writer') });
  assert.match(writer.token, /^ixt_/);
  assert.equal(writer.status, 'active');
  assert.deepEqual(writer.permissions, [{ action: 'write', resource: { type: 'buckets', id: bucket.id, name: 'devices', orgID, org: 'acme' } }]);
  const listed = await auths.getAuthorizations({ orgID });
  assert.ok(listed.authorizations.some((a) => a.id === writer.id && a.description === 'devices writer'));
  assert.deepEqual((await auths.getAuthorizations({ org: 'acme' })).authorizations.map((a) => a.id),
    listed.authorizations.map((a) => a.id), 'by organization name or ID');
  assert.ok(listed.authorizations.every((a) => a.token === undefined), 'no token is ever listed');
  assert.equal((await auths.getAuthorizationsID({ authID: writer.id })).links.self, `/api/v2/authorizations/${writer.id}`);
  assert.equal(await writeTo(writer.token, 'acme', 'devices'), 204, 'the writer writes its bucket');
  assert.equal(await writeTo(writer.token, 'acme', 'metrics'), 404, 'and no other');

  const disabled = await auths.patchAuthorizationsID({ authID: writer.id, body: { status: 'inactive' } });
  assert.equal(disabled.status, 'inactive');
  assert.equal(await writeTo(writer.token, 'acme', 'devices'), 401, 'disabled: refused at once');
  const enabled = await auths.patchAuthorizationsID({ authID: writer.id, body: { status: 'active', description: 'devices writer 2' } });
  assert.equal(enabled.status, 'active');
  assert.equal(enabled.description, 'devices writer 2');
  assert.equal(await writeTo(writer.token, 'acme', 'devices'), 204, 'enabled again');
  await refused(auths.patchAuthorizationsID({ authID: writer.id, body: { status: 'paused' } }), 400, 'not a status');
  await auths.deleteAuthorizationsID({ authID: writer.id });
  assert.equal(await writeTo(writer.token, 'acme', 'devices'), 401, 'deleted: refused');
  await refused(auths.getAuthorizationsID({ authID: writer.id }), 404, 'and gone');

  const inactive = await auths.postAuthorizations({ body: { ...bucketWriter(bucket.id, 'spare'), status: 'inactive' } });
  assert.equal(inactive.status, 'inactive');
  assert.equal(await writeTo(inactive.token, 'acme', 'devices'), 401, 'created inactive');
  await auths.deleteAuthorizationsID({ authID: inactive.id });

  const renamed = await bucketsApi.patchBucketsID({ bucketID: bucket.id, body: { name: 'devices-2' } });
  assert.equal(renamed.id, bucket.id);
  assert.equal(renamed.name, 'devices-2');
  await refused(bucketsApi.patchBucketsID({ bucketID: bucket.id, body: { name: 'metrics' } }), 422, 'a name taken');
  await bucketsApi.deleteBucketsID({ bucketID: bucket.id });
  await refused(bucketsApi.getBucketsID({ bucketID: bucket.id }), 404, 'the bucket is gone');
  assert.equal((await admin.query("SELECT count(*)::int AS n FROM influx_tokens.bucket_list WHERE name LIKE 'devices%'")).rows[0].n, 0);
});

test('management API: a token without the permission gets InfluxDB\'s error', async () => {
  const metricsId = await bucketId('metrics');
  assert.deepEqual((await authorizations(tokens.writer).getAuthorizations({})).authorizations, [],
    'without read:authorizations the list is empty, as InfluxDB filters it');
  await refused(buckets(tokens.writer).postBuckets({ body: { orgID, name: 'nope' } }), 401, 'no write:buckets');
  const res = await fetch(`${url}/api/v2/buckets`, {
    method: 'POST', headers: { Authorization: `Token ${tokens.writer}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ orgID, name: 'nope' }),
  });
  assert.deepEqual(await res.json(), { code: 'unauthorized', message: `write:orgs/${orgID}/buckets is unauthorized` },
    'InfluxDB\'s body, naming the permission');
  assert.equal((await buckets(tokens.reader).getBucketsID({ bucketID: metricsId })).name, 'metrics');
  await refused(buckets(tokens.reader).deleteBucketsID({ bucketID: metricsId }), 401, 'read but not write');
  await refused(buckets(tokens.reader).patchBucketsID({ bucketID: metricsId, body: { name: 'x' } }), 401, 'nor rename');
  await refused(buckets(tokens.writer).getBucketsID({ bucketID: metricsId }), 401, 'write but not read');
  await refused(buckets(tokens.reader).getBucketsID({ bucketID: await bucketId('secret') }), 404, 'a bucket it cannot see');
  await refused(buckets(tokens.service).getBucketsID({ bucketID: 'ffffffffffffffff' }), 404, 'unknown bucket');
  await refused(authorizations(tokens.service).getAuthorizationsID({ authID: 'ffffffffffffffff' }), 404, 'unknown authorization');
  await refused(authorizations(tokens.service).deleteAuthorizationsID({ authID: 'ffffffffffffffff' }), 404);
  await refused(authorizations(tokens.service).getAuthorizationsID({ authID: 'not-an-id' }), 400, 'not an ID');
  await refused(authorizations(tokens.reader).getAuthorizationsID({ authID: await tokenId(tokens.writer) }), 404,
    'an authorization it may not read does not exist for it');
  await refused(buckets(tokens.service).getBuckets({ org: 'no-such-org' }), 404, 'unknown organization name');
  await refused(authorizations(tokens.service).getAuthorizations({ org: 'no-such-org' }), 404, 'unknown organization name');
  await refused(buckets(tokens.service).getBuckets({ limit: 101 }), 400, 'limit out of range');
  assert.deepEqual((await buckets(tokens.readAll).getBuckets({ limit: 1, offset: 1 })).buckets.map((b) => b.name), ['metrics']);
  for (const token of [tokens.revoked, tokens.expired, 'ixt_garbage']) {
    await refused(authorizations(token).getAuthorizations({}), 401, 'an unusable token');
    await refused(buckets(token).getBuckets({}), 401, 'an unusable token');
    await refused(buckets(token).postBuckets({ body: { orgID, name: 'nope' } }), 401, 'an unusable token');
  }
});

test('management API: no endpoint lets a token escalate', async () => {
  const metricsId = await bucketId('metrics');
  const logsId = await bucketId('logs');
  const delegate = await create('{write:authorizations,read:authorizations,write:buckets/metrics}', { description: 'delegate' });
  const auths = authorizations(delegate);
  await refused(auths.postAuthorizations({ body: bucketWriter(logsId, 'more than mine') }), 403, 'a bucket it cannot write');
  const influxAcme = '1a2b3c4d5e6f7081';
  await refused(auths.postAuthorizations({
    body: { orgID: influxAcme, permissions: [{ action: 'write', resource: { type: 'buckets', orgID: influxAcme } }] } }),
  401, 'in another organization it holds no write:authorizations');
  await refused(auths.postAuthorizations({ body: { ...bucketWriter(metricsId), orgID: influxAcme } }), 403,
    'a permission of another organization than the authorization\'s');
  const child = await auths.postAuthorizations({ body: bucketWriter(metricsId, 'as mine') });
  assert.equal(await writeStatus(child.token, 'metrics'), 204, 'what it holds it may hand on');

  const wide = await create('{write:buckets/metrics,write:buckets/logs}', { description: 'wide' });
  await admin.query('SELECT influx_tokens.revoke_token($1)', [wide]);
  const wideId = await tokenId(wide);
  await refused(auths.patchAuthorizationsID({ authID: wideId, body: { status: 'active' } }), 403,
    'reactivating a token that holds more: forbidden');
  await refused(auths.patchAuthorizationsID({ authID: wideId, body: { status: 'active', description: 'mine now' } }), 403);
  const { rows: [after] } = await admin.query('SELECT status, description FROM influx_tokens.token_info($1)', [wide]);
  assert.deepEqual(after, { status: 'inactive', description: 'wide' }, 'it stays inactive, and nothing else changed');
  assert.equal(await writeStatus(wide, 'logs'), 401);

  const { rows: [foreign] } = await admin.query(
    "SELECT coalesce(influx_id, lpad(to_hex(id), 16, '0')) AS id FROM influx_tokens.token_list WHERE org = 'influx-acme' LIMIT 1");
  assert.ok(foreign, 'a token of another organization (the migrated fixtures)');
  await refused(auths.getAuthorizationsID({ authID: foreign.id }), 404, 'another organization\'s token does not exist for it');
  await refused(auths.patchAuthorizationsID({ authID: foreign.id, body: { status: 'inactive' } }), 404);
  await refused(auths.deleteAuthorizationsID({ authID: foreign.id }), 404);
  assert.ok((await auths.getAuthorizations({})).authorizations.every((a) => a.orgID === orgID), 'it lists its own organization\'s only');

  await refused(buckets(delegate).postBuckets({ body: { orgID, name: 'mine' } }), 401, 'no write:buckets in the organization');
  await refused(buckets(delegate).patchBucketsID({ bucketID: logsId, body: { name: 'mine' } }), 404, 'a bucket it cannot see');
  await refused(buckets(delegate).deleteBucketsID({ bucketID: logsId }), 404, 'a bucket it cannot see');
  assert.equal((await admin.query("SELECT count(*)::int AS n FROM influx_tokens.bucket_list WHERE org = 'acme' AND name = 'logs'")).rows[0].n, 1);
  await admin.query('SELECT influx_tokens.delete_token($1, true)', [delegate]);
  await admin.query('SELECT influx_tokens.delete_token($1)', [wide]);
});

test('management API: a child works only while its parent does', async () => {
  const parent = await create('{write:authorizations,read:authorizations,write:buckets,read:buckets}', { description: 'parent' });
  const child = await authorizations(parent).postAuthorizations({ body: bucketWriter(await bucketId('metrics'), 'child') });
  assert.equal(await writeStatus(child.token, 'metrics'), 204);
  await admin.query('SELECT influx_tokens.revoke_token($1)', [parent]);
  assert.equal(await writeStatus(child.token, 'metrics'), 401, 'its parent revoked: refused at once');
  await refused(authorizations(parent).getAuthorizationsID({ authID: child.id }), 401, 'nor may the parent act');
  await admin.query('SELECT influx_tokens.activate_token($1)', [parent]);
  assert.equal(await writeStatus(child.token, 'metrics'), 204, 'its parent active again: it works again');
  await admin.query('SELECT influx_tokens.delete_token($1, true)', [parent]);
  assert.equal(await writeStatus(child.token, 'metrics'), 401, 'deleted with its parent');
});

test('management API: a token that may create authorizations but read none is shown what it created', async () => {
  const minter = await create('{write:authorizations,write:buckets/metrics}', { description: 'minter' });
  const metrics = await bucketId('metrics');
  const created = await authorizations(minter).postAuthorizations({ body: bucketWriter(metrics, 'minted') });
  assert.equal(created.orgID, orgID);
  assert.equal(created.org, 'acme');
  assert.equal(created.description, 'minted');
  assert.deepEqual(created.permissions, [{ action: 'write', resource: { type: 'buckets', id: metrics, name: 'metrics', orgID, org: 'acme' } }]);
  assert.equal(await writeStatus(created.token, 'metrics'), 204);
  assert.deepEqual((await authorizations(minter).getAuthorizations({})).authorizations, [], 'it lists none');
  await refused(authorizations(minter).getAuthorizationsID({ authID: created.id }), 401, 'nor reads the one it made');
  await authorizations(minter).deleteAuthorizationsID({ authID: created.id });
  assert.equal(await writeStatus(created.token, 'metrics'), 401, 'but may delete it');
  await admin.query('SELECT influx_tokens.delete_token($1)', [minter]);
});
