// A thin InfluxDB front end: it speaks the part of the v2 HTTP API that
// clients need (write, buckets, health, authorizations) and InfluxDB 3's
// SQL query endpoint, and asks the influx_tokens extension every "may this
// token do this?" question, always with the token as a bind parameter.  It
// stores written line protocol in a table whose row-level security policies
// decide, from the request's token, what is written and read (schema.sql):
// writes and queries never check rows themselves.  Configuration: the usual
// PG* environment variables, and HOST/PORT to listen on (127.0.0.1:8086 by
// default).
'use strict';

const http = require('node:http');
const zlib = require('node:zlib');
const { Pool } = require('pg');

const pool = new Pool({ max: 8 });
const HOST = process.env.HOST || '127.0.0.1';
const PORT = Number(process.env.PORT || 8086);
const MAX_BODY = 10 * 1024 * 1024;

// InfluxDB's error bodies.
const UNAUTHORIZED = [401, { code: 'unauthorized', message: 'unauthorized access' }];

// influx_tokens ids are bigints; InfluxDB shows 16 hex digits.
const hexId = (id) => BigInt(id).toString(16).padStart(16, '0');

function send(res, status, body) {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(text);
}

// The token of "Authorization: Token <t>" or "Bearer <t>", or null.
function tokenOf(req) {
  const match = /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization || '');
  return match ? match[1] : null;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('request too large'), { status: 413 }));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      try {
        if ((req.headers['content-encoding'] || '').toLowerCase() === 'gzip') body = zlib.gunzipSync(body);
      } catch (e) {
        reject(Object.assign(new Error('invalid gzip body'), { status: 400 }));
        return;
      }
      resolve(body.toString('utf8'));
    });
    req.on('error', reject);
  });
}

// The token's own row (org, status), or null when it cannot be used at all:
// unknown, revoked or expired tokens are all simply unauthorized.
async function validToken(token) {
  if (!token) return null;
  const { rows } = await pool.query(
    `SELECT i.id, i.org, o.id AS org_id, o.influx_id AS org_influx_id
     FROM influx_tokens.token_info($1) AS i
     JOIN influx_tokens.org_list AS o ON o.name = i.org
     WHERE i.status = 'active' AND (i.expires_at IS NULL OR i.expires_at > clock_timestamp())`,
    [token]);
  return rows[0] || null;
}

// Every organization has an InfluxDB ID (org_list.influx_id).
const orgIdOf = (row) => row.org_influx_id;

async function health(req, res) {
  await pool.query('SELECT 1');
  send(res, 200, {
    name: 'influx_tokens-frontend', message: 'ready for queries and writes',
    status: 'pass', checks: [], version: '1.0.0', commit: '',
  });
}

// Runs fn(client) in one transaction on one connection, with the request's
// token as the transaction's current token (influx_tokens.authenticate):
// the row-level security policies of frontend.points (schema.sql) decide
// what the statements see and write.  Resolves to null if the token is not
// usable.  The token is a bind parameter, and current only until the end
// of this transaction, whoever uses the connection next.
async function asToken(token, readOnly, fn) {
  if (!token) return null;
  const client = await pool.connect();
  try {
    await client.query(readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    const { rows: [auth] } = await client.query('SELECT influx_tokens.authenticate($1) AS ok', [token]);
    if (!auth.ok) {
      await client.query('ROLLBACK');
      return null;
    }
    // A statement of its own: authenticate must have run before this one reads the current token.
    const { rows: [me] } = await client.query(
      `SELECT o.name AS org, o.id AS org_id, o.influx_id AS org_influx_id
       FROM influx_tokens.org_list AS o WHERE o.name = influx_tokens.current_token_org()`);
    const result = await fn(client, me);
    await client.query('COMMIT');
    return { result };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

async function write(req, res, url) {
  const token = tokenOf(req);
  const org = url.searchParams.get('org') || url.searchParams.get('orgID');
  const bucket = url.searchParams.get('bucket');
  const lines = (await readBody(req)).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const outcome = await asToken(token, false, async (client, me) => {
    if (!org || !bucket) return [400, { code: 'invalid', message: 'both org and bucket are required' }];
    // org is a name or an InfluxDB ID (the client sends either).
    const { rows: [named] } = await client.query(
      'SELECT name FROM influx_tokens.org_list WHERE influx_id = $1', [org]);
    const orgName = named ? named.name : org;
    // The policy decides each row; an empty write has no row to decide.
    await client.query('SAVEPOINT before_write');
    try {
      if (lines.length > 0) {
        await client.query(
          `INSERT INTO frontend.points (org, bucket, line) SELECT $1, $2, unnest($3::text[])`,
          [orgName, bucket, lines]);
        return [204];
      }
      const { rows: [may] } = await client.query(
        "SELECT influx_tokens.current_token_check('write', $1, $2) AS write", [orgName, bucket]);
      if (may.write) return [204];
    } catch (e) {
      if (e.code !== '42501') throw e;
    }
    // Refused by the policy.  As InfluxDB: a bucket the token can see but not
    // write is forbidden; one it cannot see at all does not exist for it.
    await client.query('ROLLBACK TO SAVEPOINT before_write');
    const { rows: [may] } = await client.query(
      "SELECT influx_tokens.current_token_check('read', $1, $2) AS read", [orgName, bucket]);
    if (may.read) return [403, { code: 'forbidden', message: 'insufficient permissions for write' }];
    return [404, { code: 'not found', message: `bucket "${bucket}" not found` }];
  });
  if (!outcome) return send(res, ...UNAUTHORIZED);
  send(res, ...outcome.result);
}

// InfluxDB 3's GET /api/v3/query_sql?db=<bucket>&q=<SQL>: the client's SQL,
// one statement, over the view "points" (the rows of that bucket), in a
// read-only transaction, as the role frontend_sql_reader (schema.sql), with
// the token current: the policies let it see only rows of buckets the
// token may read, whatever the SQL names.  JSON rows, as InfluxDB 3's
// default format.
const QUERY_MAX_ROWS = 10000;

async function querySql(req, res, url) {
  const db = url.searchParams.get('db');
  const q = url.searchParams.get('q');
  if (!db || !q) return send(res, 400, { code: 'invalid', message: 'both db and q are required' });
  let outcome;
  try {
    outcome = await asToken(tokenOf(req), true, async (client) => {
      const { rows: [may] } = await client.query(
        "SELECT influx_tokens.current_token_check('read', $1) AS read", [db]);
      if (!may.read) return [404, { code: 'not found', message: `database "${db}" not found` }];
      await client.query("SELECT set_config('frontend.db', $1, true)", [db]);
      await client.query("SET LOCAL statement_timeout = '5s'");
      await client.query('SET LOCAL ROLE frontend_sql_reader');
      await client.query('SET LOCAL search_path = frontend_sql');
      // The extended protocol: q is one statement, or an error.
      const { rows } = await client.query({ text: q, queryMode: 'extended' });
      return [200, rows.slice(0, QUERY_MAX_ROWS)];
    });
  } catch (e) {
    if (e.code && /^(42|22|25)/.test(e.code)) return send(res, 400, { code: 'invalid', message: e.message });
    throw e;
  }
  if (!outcome) return send(res, ...UNAUTHORIZED);
  send(res, ...outcome.result);
}

// GET /api/v2/buckets: the buckets the token may read, in every
// organization it reaches (an operator token, or one imported with
// InfluxDB's org-less grants, reaches them all), optionally only those of
// one organization (org or orgID) or of one name.
async function listBuckets(req, res, url) {
  const token = tokenOf(req);
  const self = await validToken(token);
  if (!self) return send(res, ...UNAUTHORIZED);
  const { rows } = await pool.query(
    `SELECT b.id, b.name, b.created_at, b.influx_id, o.id AS org_id, o.influx_id AS org_influx_id
     FROM influx_tokens.bucket_list AS b
     JOIN influx_tokens.org_list AS o ON o.name = b.org
     WHERE ($2::text IS NULL OR b.org = $2)
       AND ($3::text IS NULL OR o.influx_id = $3)
       AND ($4::text IS NULL OR b.name = $4)
       AND influx_tokens.token_check($1, 'read', b.org, b.name)
     ORDER BY b.org, b.name`,
    [token, url.searchParams.get('org'), url.searchParams.get('orgID'), url.searchParams.get('name')]);
  send(res, 200, {
    links: { self: '/api/v2/buckets' },
    buckets: rows.map((b) => ({
      id: b.influx_id, orgID: orgIdOf(b), name: b.name, type: 'user',
      retentionRules: [], createdAt: b.created_at, updatedAt: b.created_at, labels: [],
    })),
  });
}

// InfluxDB's resource types; "instance" is never granted.
const RESOURCE_TYPES = new Set(['authorizations', 'buckets', 'dashboards', 'orgs', 'sources', 'tasks',
  'telegrafs', 'users', 'variables', 'scrapers', 'secrets', 'labels', 'views', 'documents',
  'notificationRules', 'notificationEndpoints', 'checks', 'dbrp', 'notebooks', 'annotations',
  'remotes', 'replications']);
const INFLUX_ID = /^[0-9a-f]{16}$/;

// InfluxDB permission objects -> influx_tokens permission strings, in
// InfluxDB's own form (orgs/<orgID>/<type>[/<id>], or /<type>[/<id>]
// without an orgID), so that the extension decides every one as InfluxDB
// would.  A bucket given by name only is ours (buckets/<name>).
function permissionStrings(permissions, self) {
  if (!Array.isArray(permissions) || permissions.length === 0) {
    throw Object.assign(new Error('permissions are required'), { status: 400 });
  }
  return permissions.map((p) => {
    const r = p && p.resource;
    if (!p || !['read', 'write'].includes(p.action) || !r || !RESOURCE_TYPES.has(r.type)
        || (r.id !== undefined && !INFLUX_ID.test(r.id)) || (r.orgID !== undefined && !INFLUX_ID.test(r.orgID))) {
      throw Object.assign(new Error('invalid permission'), { status: 400 });
    }
    if (r.orgID && r.orgID !== orgIdOf(self)) {
      throw Object.assign(new Error('permission on another organization'), { status: 403, code: 'forbidden' });
    }
    if (r.type === 'buckets' && !r.id && typeof r.name === 'string') return `${p.action}:buckets/${r.name}`;
    return `${p.action}:${r.orgID ? `orgs/${r.orgID}/` : '/'}${r.type}${r.id ? `/${r.id}` : ''}`;
  });
}

function authorizationJson(row, self, token) {
  return {
    id: hexId(row.id), ...(token ? { token } : {}), status: row.status,
    description: row.description || '', orgID: orgIdOf(self), org: row.org,
    // token_list's strings: <type>[/<name or ID>] in the token's organization,
    // /<type>[/<ID>] without one (InfluxDB's resource without an orgID).
    permissions: row.permissions.map((p) => {
      const action = p.slice(0, p.indexOf(':'));
      const resource = p.slice(p.indexOf(':') + 1);
      const orgless = resource.startsWith('/');
      const [type, ...rest] = (orgless ? resource.slice(1) : resource).split('/');
      const ref = rest.join('/');
      return {
        action,
        resource: {
          type, ...(orgless ? {} : { orgID: orgIdOf(self), org: row.org }),
          ...(ref ? (type === 'buckets' && !orgless ? { name: ref } : { id: ref }) : {}),
        },
      };
    }),
    createdAt: row.created_at, updatedAt: row.created_at,
    links: { self: `/api/v2/authorizations/${hexId(row.id)}` },
  };
}

async function createAuthorization(req, res) {
  const token = tokenOf(req);
  const self = await validToken(token);
  if (!self) return send(res, ...UNAUTHORIZED);
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch (e) {
    return send(res, 400, { code: 'invalid', message: 'invalid JSON body' });
  }
  const permissions = permissionStrings(body.permissions, self);
  let created;
  try {
    ({ rows: [created] } = await pool.query(
      'SELECT id, token FROM influx_tokens.create_token_as_with_id($1, $2, $3)',
      [token, permissions, body.description || null]));
  } catch (e) {
    if (e.code === '42501') return send(res, 403, { code: 'forbidden', message: e.message });
    if (e.code && e.code.startsWith('22')) return send(res, 400, { code: 'invalid', message: e.message });
    if (e.code === '42704') return send(res, 404, { code: 'not found', message: e.message });
    throw e;
  }
  const { rows: [row] } = await pool.query('SELECT * FROM influx_tokens.token_list WHERE id = $1', [created.id]);
  send(res, 201, authorizationJson(row, self, created.token));
}

async function listAuthorizations(req, res) {
  const token = tokenOf(req);
  const self = await validToken(token);
  if (!self) return send(res, ...UNAUTHORIZED);
  const { rows: [may] } = await pool.query(
    "SELECT influx_tokens.token_allows($1, 'read:authorizations') AS read", [token]);
  if (!may.read) return send(res, 403, { code: 'forbidden', message: 'insufficient permissions to read authorizations' });
  const { rows } = await pool.query(
    'SELECT * FROM influx_tokens.token_list WHERE org = $1 ORDER BY id', [self.org]);
  send(res, 200, {
    links: { self: '/api/v2/authorizations' },
    authorizations: rows.map((row) => authorizationJson(row, self, null)),
  });
}

const routes = {
  'GET /health': health,
  'GET /ping': async (req, res) => send(res, 204),
  'POST /api/v2/write': write,
  'GET /api/v3/query_sql': querySql,
  'GET /api/v2/buckets': listBuckets,
  'POST /api/v2/authorizations': createAuthorization,
  'GET /api/v2/authorizations': listAuthorizations,
};

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const route = routes[`${req.method} ${url.pathname}`];
  if (!route) return send(res, 404, { code: 'not found', message: 'path not found' });
  try {
    await route(req, res, url);
  } catch (e) {
    // Never echo the request (it may hold a token); say what kind of failure it was.
    if (e.status) return send(res, e.status, { code: e.code || 'invalid', message: e.message });
    console.error(`${req.method} ${url.pathname}: ${e.code || ''} ${e.message}`);
    send(res, 500, { code: 'internal error', message: 'internal error' });
  }
});

server.listen(PORT, HOST, () => console.log(`influx_tokens front end listening on http://${HOST}:${PORT}`));
process.on('SIGTERM', () => server.close(() => pool.end()));
