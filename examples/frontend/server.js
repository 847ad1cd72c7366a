// A thin InfluxDB front end: it speaks the part of the v2 HTTP API that
// clients need (write, buckets, health, authorizations) and InfluxDB 3's
// SQL query endpoint, and asks the influx_tokens extension every "may this
// token do this?" question, always with the token as a bind parameter.  It
// stores written line protocol in a table whose row-level security policies
// decide, from the request's token, what is written and read (schema.sql):
// writes and queries never check rows themselves.  Authorizations and
// buckets are read and changed only through the extension's token forms
// (list_tokens_as, create_bucket_as, ...), with the request's token as the
// credential: the front end's role holds no grant on the extension's
// tables or views.  Configuration: the usual PG* environment variables, and
// HOST/PORT to listen on (127.0.0.1:8086 by default).
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
const INFLUX_ID = /^[0-9a-f]{16}$/;

// An error that answers the request with InfluxDB's status and body.
const httpError = (status, code, message) => Object.assign(new Error(message), { status, code });

/*
 * InfluxDB's answer to an error of the extension, by SQLSTATE, or null:
 * an unusable token, or one lacking the permission, is unauthorized (401;
 * the message names the permission, as InfluxDB's authorizer does); asking
 * for more than the acting token holds is forbidden (403); what the token
 * cannot see does not exist (404); a taken name is a conflict (422); bad
 * input is invalid (400).  The extension's messages never quote a token.
 */
function influxError(e) {
  switch (e.code) {
    case '28000':
      return [401, { code: 'unauthorized', message: / is unauthorized$/.test(e.message) ? e.message : 'unauthorized access' }];
    case '42501': return [403, { code: 'forbidden', message: e.message }];
    case '42704': return [404, { code: 'not found', message: e.message }];
    case '23505': return [422, { code: 'conflict', message: e.message }];
    case '23502': return [400, { code: 'invalid', message: e.message }];
    default:
      return e.code && e.code.startsWith('22') ? [400, { code: 'invalid', message: e.message }] : null;
  }
}

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

// The request's token if it is usable (authenticate): as in InfluxDB, an
// unusable or missing token is 401 before anything else is looked at.  The
// token forms check it again, each time they act.
async function usableToken(req) {
  const token = tokenOf(req);
  if (!token) throw httpError(401, 'unauthorized', 'unauthorized access');
  const { rows: [auth] } = await pool.query('SELECT influx_tokens.authenticate($1) AS ok', [token]);
  if (!auth.ok) throw httpError(401, 'unauthorized', 'unauthorized access');
  return token;
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

// A JSON object body, or 400.
async function readJson(req) {
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch (e) {
    if (e.status) throw e;
    throw httpError(400, 'invalid', 'invalid JSON body');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw httpError(400, 'invalid', 'the body must be a JSON object');
  }
  return body;
}

// An InfluxDB ID from the path or the query (lower-cased, as InfluxDB
// decodes either case), or 400 with InfluxDB's message.
function influxId(value) {
  const id = String(value).toLowerCase();
  if (id.length !== 16) throw httpError(400, 'invalid', 'id must have a length of 16 bytes');
  if (!INFLUX_ID.test(id)) throw httpError(400, 'invalid', 'invalid ID');
  return id;
}

// A query parameter, null when absent or empty; an ID parameter is checked.
function param(url, name, isId = false) {
  const value = url.searchParams.get(name);
  if (!value) return null;
  return isId ? influxId(value) : value;
}

async function health(req, res) {
  await pool.query('SELECT 1');
  send(res, 200, {
    name: 'influx_tokens-frontend', message: 'ready for queries and writes',
    status: 'pass', checks: [], version: '1.0.0', commit: '',
  });
}

// Runs fn(client) in one transaction on one connection: a change of
// several steps (create then revoke, describe then activate) is all or
// nothing, and its commit is where the extension checks a new token
// against its parent once more.
async function inTransaction(fn) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
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
    const result = await fn(client);
    await client.query('COMMIT');
    return { result };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

// Is the organization of this name one the token may know of: its own, one
// it may read, or one of a bucket it may read?  (An unknown organization
// name is InfluxDB's 404; one the token cannot see is unknown to it.)
async function orgVisible(db, token, name) {
  const { rows: [seen] } = await db.query(
    `SELECT EXISTS (SELECT FROM influx_tokens.token_info($1) AS i WHERE i.org = $2)
         OR EXISTS (SELECT FROM influx_tokens.list_orgs_as($1) AS o WHERE o.name = $2)
         OR EXISTS (SELECT FROM influx_tokens.list_buckets_as($1) AS b WHERE b.org = $2) AS seen`,
    [token, name]);
  return seen.seen;
}

// The token's own row (token_info): id, its organization's name and
// InfluxDB ID, its permissions and InfluxDB's body of it.
async function ownOrg(db, token) {
  const { rows: [own] } = await db.query(
    `SELECT i.id, i.org AS name, i.org_influx_id AS influx_id, i.permissions, i.body
     FROM influx_tokens.token_info($1) AS i`, [token]);
  if (!own) throw httpError(401, 'unauthorized', 'unauthorized access');
  return own;
}

// The name of the organization the write names by name or InfluxDB ID: the
// token's own, one it may read, or one of a bucket it may read; anything
// else is taken as a name.
async function writeOrgName(db, token, org) {
  if (!INFLUX_ID.test(org)) return org;
  const { rows: [named] } = await db.query(
    `SELECT COALESCE(
         (SELECT i.org FROM influx_tokens.token_info($1) AS i WHERE i.org_influx_id = $2),
         (SELECT o.name FROM influx_tokens.list_orgs_as($1) AS o WHERE o.influx_id = $2),
         (SELECT b.org FROM influx_tokens.list_buckets_as($1) AS b WHERE b.org_influx_id = $2 LIMIT 1)) AS name`,
    [token, org]);
  return named.name || org;
}

// The same for the bucket: a name, or the InfluxDB ID of a bucket of that
// organization the token may read.
async function writeBucketName(db, token, orgName, bucket) {
  if (!INFLUX_ID.test(bucket)) return bucket;
  const { rows: [named] } = await db.query(
    'SELECT b.name FROM influx_tokens.list_buckets_as($1) AS b WHERE b.influx_id = $2 AND b.org = $3',
    [token, bucket, orgName]);
  return named ? named.name : bucket;
}

// POST /api/v2/write?org=&bucket=: InfluxDB writes line protocol into a
// bucket of an organization, each named by name or InfluxDB ID.
async function write(req, res, url) {
  const token = tokenOf(req);
  const org = url.searchParams.get('org') || url.searchParams.get('orgID');
  const bucket = url.searchParams.get('bucket');
  const lines = (await readBody(req)).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const outcome = await asToken(token, false, async (client) => {
    if (!org || !bucket) return [400, { code: 'invalid', message: 'both org and bucket are required' }];
    const orgName = await writeOrgName(client, token, org);
    const bucketName = await writeBucketName(client, token, orgName, bucket);
    // The policy decides each row; an empty write has no row to decide.
    await client.query('SAVEPOINT before_write');
    try {
      if (lines.length > 0) {
        await client.query(
          `INSERT INTO frontend.points (org, bucket, line) SELECT $1, $2, unnest($3::text[])`,
          [orgName, bucketName, lines]);
        return [204];
      }
      const { rows: [may] } = await client.query(
        "SELECT influx_tokens.current_token_check('write', $1, $2) AS write", [orgName, bucketName]);
      if (may.write) return [204];
    } catch (e) {
      if (e.code !== '42501') throw e;
    }
    // Refused by the policy.  As InfluxDB: a bucket the token can see but not
    // write is forbidden; one it cannot see at all does not exist for it.
    await client.query('ROLLBACK TO SAVEPOINT before_write');
    const { rows: [may] } = await client.query(
      "SELECT influx_tokens.current_token_check('read', $1, $2) AS read", [orgName, bucketName]);
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

// InfluxDB's resource types; "instance" is never granted.
const RESOURCE_TYPES = new Set(['authorizations', 'buckets', 'dashboards', 'orgs', 'sources', 'tasks',
  'telegrafs', 'users', 'variables', 'scrapers', 'secrets', 'labels', 'views', 'documents',
  'notificationRules', 'notificationEndpoints', 'checks', 'dbrp', 'notebooks', 'annotations',
  'remotes', 'replications']);

// InfluxDB permission objects -> influx_tokens permission strings, in
// InfluxDB's own form (orgs/<orgID>/<type>[/<id>], or /<type>[/<id>]
// without an orgID), so that the extension decides every one as InfluxDB
// would.  A bucket given by name only is ours (buckets/<name>).  Every
// orgID must be the authorization's own (orgID).
function permissionStrings(permissions, orgID) {
  if (!Array.isArray(permissions) || permissions.length === 0) {
    throw httpError(400, 'invalid', 'permissions are required');
  }
  return permissions.map((p) => {
    const r = p && p.resource;
    if (!p || !['read', 'write'].includes(p.action) || !r || !RESOURCE_TYPES.has(r.type)
        || (r.id !== undefined && !INFLUX_ID.test(r.id)) || (r.orgID !== undefined && !INFLUX_ID.test(r.orgID))) {
      throw httpError(400, 'invalid', 'invalid permission');
    }
    if (r.orgID && r.orgID !== orgID) throw httpError(403, 'forbidden', 'permission on another organization');
    if (r.type === 'buckets' && !r.id && typeof r.name === 'string') return `${p.action}:buckets/${r.name}`;
    return `${p.action}:${r.orgID ? `orgs/${r.orgID}/` : '/'}${r.type}${r.id ? `/${r.id}` : ''}`;
  });
}

// An authorization as InfluxDB shows it: the extension's body (token_row),
// with InfluxDB's links.
function authorizationJson(body) {
  return {
    ...body,
    links: {
      self: `/api/v2/authorizations/${body.id}`,
      ...(body.userID ? { user: `/api/v2/users/${body.userID}` } : {}),
    },
  };
}

// The body of the authorization as the first of the tokens that may read
// it sees it (find_token_as), or null if none may.  Each try has its own
// savepoint: a refusal does not end the transaction.
async function readableBody(db, actors, id) {
  for (const actor of actors) {
    await db.query('SAVEPOINT find');
    try {
      const { rows: [found] } = await db.query('SELECT body FROM influx_tokens.find_token_as($1, $2)', [actor, id]);
      await db.query('RELEASE SAVEPOINT find');
      return found.body;
    } catch (e) {
      if (e.code !== '28000' && e.code !== '42704') throw e;
      await db.query('ROLLBACK TO SAVEPOINT find');
    }
  }
  return null;
}

// GET /api/v2/authorizations: InfluxDB lists the authorizations the token
// may read, in any organization, silently leaving out the others;
// optionally only those of one organization (org, orgID), one user (user,
// userID) or one ID.  An unknown organization name is 404.
async function listAuthorizations(req, res, url) {
  const token = await usableToken(req);
  const org = param(url, 'org');
  const { rows } = await pool.query(
    `SELECT t.body FROM influx_tokens.list_tokens_as($1) AS t
     WHERE ($2::text IS NULL OR t.org = $2)
       AND ($3::text IS NULL OR t.org_influx_id = $3)
       AND ($4::text IS NULL OR t.body->>'user' = $4)
       AND ($5::text IS NULL OR t.body->>'userID' = $5)
       AND ($6::text IS NULL OR t.influx_id = $6)
     ORDER BY t.id`,
    [token, org, param(url, 'orgID', true), param(url, 'user'), param(url, 'userID', true), param(url, 'id', true)]);
  if (org && rows.length === 0 && !(await orgVisible(pool, token, org))) {
    return send(res, 404, { code: 'not found', message: `organization name "${org}" not found` });
  }
  send(res, 200, {
    links: { self: '/api/v2/authorizations' },
    authorizations: rows.map((r) => authorizationJson(r.body)),
  });
}

// POST /api/v2/authorizations: InfluxDB creates an authorization in orgID
// if the token holds write:authorizations there (else 401), with no
// permission the token lacks (else 403); the answer is the only place its
// token is ever shown.  Here the new token is always in the acting token's
// organization: another orgID is 403.  status "inactive" creates it revoked.
async function createAuthorization(req, res) {
  const token = await usableToken(req);
  const body = await readJson(req);
  const { orgID } = body;
  if (typeof orgID !== 'string' || !INFLUX_ID.test(orgID)) throw httpError(400, 'invalid', 'org id is required');
  if (body.description != null && typeof body.description !== 'string') {
    throw httpError(400, 'invalid', 'description must be a string');
  }
  if (body.status != null && !['active', 'inactive'].includes(body.status)) {
    throw httpError(400, 'invalid', 'unknown authorization status');
  }
  const permissions = permissionStrings(body.permissions, orgID);
  const created = await inTransaction(async (db) => {
    const own = await ownOrg(db, token);
    const { rows: [may] } = await db.query(
      'SELECT influx_tokens.token_allows($1, $2) AS write', [token, `write:orgs/${orgID}/authorizations`]);
    if (!may.write) throw httpError(401, 'unauthorized', `write:orgs/${orgID}/authorizations is unauthorized`);
    // create_token_as makes the new token in the acting token's organization.
    if (own.influx_id !== orgID) {
      throw httpError(403, 'forbidden', 'an authorization is created in the organization of its creator');
    }
    const { rows: [child] } = await db.query(
      'SELECT id, token FROM influx_tokens.create_token_as_with_id($1, $2, $3)',
      [token, permissions, body.description || null]);
    const id = hexId(child.id);
    if (body.status === 'inactive') await db.query('SELECT influx_tokens.revoke_token_as($1, $2)', [token, id]);
    // The new token's own body: what it is, whoever may read it.
    const { rows: [row] } = await db.query('SELECT body FROM influx_tokens.token_info($1)', [child.token]);
    return { ...authorizationJson(row.body), token: child.token };
  });
  send(res, 201, created);
}

// GET /api/v2/authorizations/{id}: 401 if the token may not read it, 404
// if it does not exist (nor for the token).
async function getAuthorization(req, res, url, id) {
  const token = await usableToken(req);
  const { rows: [found] } = await pool.query(
    'SELECT body FROM influx_tokens.find_token_as($1, $2)', [token, influxId(id)]);
  send(res, 200, authorizationJson(found.body));
}

// PATCH /api/v2/authorizations/{id} {status?, description?}: InfluxDB
// needs write on it (401); here reactivating one that holds more than the
// token is 403 too.  Both changes or neither.  The answer is the updated
// authorization, or only what changed if the token may not read it.
async function updateAuthorization(req, res, url, rawId) {
  const token = await usableToken(req);
  const id = influxId(rawId);
  const body = await readJson(req);
  if (body.status != null && !['active', 'inactive'].includes(body.status)) {
    throw httpError(400, 'invalid', 'unknown authorization status');
  }
  if (body.description != null && typeof body.description !== 'string') {
    throw httpError(400, 'invalid', 'description must be a string');
  }
  const updated = await inTransaction(async (db) => {
    if (body.description != null) {
      await db.query('SELECT influx_tokens.set_token_description_as($1, $2, $3)', [token, id, body.description]);
    }
    if (body.status === 'active') await db.query('SELECT influx_tokens.activate_token_as($1, $2)', [token, id]);
    if (body.status === 'inactive') await db.query('SELECT influx_tokens.revoke_token_as($1, $2)', [token, id]);
    if (body.status == null && body.description == null) {
      // Nothing to change: the answer is the authorization as it stands.
      return (await db.query('SELECT body FROM influx_tokens.find_token_as($1, $2)', [token, id])).rows[0].body;
    }
    return (await readableBody(db, [token], id))
      || { id, ...(body.status != null ? { status: body.status } : {}),
        ...(body.description != null ? { description: body.description } : {}) };
  });
  send(res, 200, authorizationJson(updated));
}

// DELETE /api/v2/authorizations/{id}: 204; 401 without write on it, 404 if
// it does not exist.  The tokens it created go with it (delete_token_as).
async function deleteAuthorization(req, res, url, id) {
  const token = await usableToken(req);
  await pool.query('SELECT influx_tokens.delete_token_as($1, $2)', [token, influxId(id)]);
  send(res, 204);
}

// A bucket as InfluxDB shows it (bucket_row).  This front end keeps no
// retention rules or labels.
function bucketJson(b) {
  return {
    id: b.influx_id, orgID: b.org_influx_id, type: 'user', name: b.name,
    retentionRules: [], createdAt: b.created_at, updatedAt: b.created_at, labels: [],
    links: {
      self: `/api/v2/buckets/${b.influx_id}`,
      org: `/api/v2/orgs/${b.org_influx_id}`,
      write: `/api/v2/write?org=${b.org_influx_id}&bucket=${b.influx_id}`,
    },
  };
}

// A page's offset and limit as InfluxDB decodes them (limit 1..100, 20 by default).
function page(url) {
  const offset = param(url, 'offset');
  const limit = param(url, 'limit');
  if (offset !== null && !/^\d+$/.test(offset)) throw httpError(400, 'invalid', 'offset is invalid');
  if (limit !== null && !/^-?\d+$/.test(limit)) throw httpError(400, 'invalid', 'limit is invalid');
  const n = limit === null ? 20 : Number(limit);
  if (n < 1 || n > 100) throw httpError(400, 'invalid', 'limit must be between 1 and 100');
  return { offset: offset === null ? 0 : Number(offset), limit: n };
}

// GET /api/v2/buckets: the buckets the token may read, in every
// organization it reaches (an operator token, or one imported with
// InfluxDB's org-less grants, reaches them all), optionally only those of
// one organization (org or orgID), of one name or of one ID.  An unknown
// organization name is 404, as InfluxDB's.
async function listBuckets(req, res, url) {
  const token = await usableToken(req);
  const org = param(url, 'org');
  const { offset, limit } = page(url);
  const { rows } = await pool.query(
    `SELECT * FROM influx_tokens.list_buckets_as($1) AS b
     WHERE ($2::text IS NULL OR b.org = $2)
       AND ($3::text IS NULL OR b.org_influx_id = $3)
       AND ($4::text IS NULL OR b.name = $4)
       AND ($5::text IS NULL OR b.influx_id = $5)
     ORDER BY b.org, b.name OFFSET $6 LIMIT $7`,
    [token, org, param(url, 'orgID', true), param(url, 'name'), param(url, 'id', true), offset, limit]);
  if (org && rows.length === 0 && !(await orgVisible(pool, token, org))) {
    return send(res, 404, { code: 'not found', message: `organization name "${org}" not found` });
  }
  send(res, 200, { links: { self: '/api/v2/buckets' }, buckets: rows.map(bucketJson) });
}

// POST /api/v2/buckets {orgID, name}: 201 and the bucket; 401 without
// write:buckets in that organization; 422 if the name is taken there.
async function createBucket(req, res) {
  const token = await usableToken(req);
  const body = await readJson(req);
  if (!body.orgID) throw httpError(400, 'invalid', 'organization id must be provided');
  if (typeof body.name !== 'string') throw httpError(400, 'invalid', 'bucket name is required');
  let created;
  try {
    ({ rows: [created] } = await pool.query(
      'SELECT * FROM influx_tokens.create_bucket_as($1, $2, $3)', [token, influxId(body.orgID), body.name]));
  } catch (e) {
    if (e.code === '23505') throw httpError(422, 'conflict', `bucket with name ${body.name} already exists`);
    throw e;
  }
  send(res, 201, bucketJson(created));
}

// GET /api/v2/buckets/{id}: 401 if the token may write but not read it,
// 404 if it does not exist (nor for the token).
async function getBucket(req, res, url, id) {
  const token = await usableToken(req);
  const { rows: [found] } = await pool.query(
    'SELECT * FROM influx_tokens.find_bucket_as($1, $2)', [token, influxId(id)]);
  send(res, 200, bucketJson(found));
}

// PATCH /api/v2/buckets/{id} {name}: renames it (the only change this
// front end keeps); 401 without write on it, 422 if the name is taken.
async function updateBucket(req, res, url, rawId) {
  const token = await usableToken(req);
  const id = influxId(rawId);
  const body = await readJson(req);
  if (typeof body.name !== 'string') throw httpError(400, 'invalid', 'only the name of a bucket can be changed');
  let renamed;
  try {
    ({ rows: [renamed] } = await pool.query(
      'SELECT * FROM influx_tokens.rename_bucket_as($1, $2, $3)', [token, id, body.name]));
  } catch (e) {
    if (e.code === '23505') throw httpError(422, 'conflict', 'bucket name is not unique');
    throw e;
  }
  send(res, 200, bucketJson(renamed));
}

// DELETE /api/v2/buckets/{id}: 204; 401 without write on it, 404 if it
// does not exist.  Grants on it go with it (drop_bucket_as).
async function deleteBucket(req, res, url, id) {
  const token = await usableToken(req);
  await pool.query('SELECT influx_tokens.drop_bucket_as($1, $2)', [token, influxId(id)]);
  send(res, 204);
}

// METHOD path, with {id} for one path segment (handed to the handler).
const routes = [
  ['GET /health', health],
  ['GET /ping', async (req, res) => send(res, 204)],
  ['POST /api/v2/write', write],
  ['GET /api/v3/query_sql', querySql],
  ['GET /api/v2/buckets', listBuckets],
  ['POST /api/v2/buckets', createBucket],
  ['GET /api/v2/buckets/{id}', getBucket],
  ['PATCH /api/v2/buckets/{id}', updateBucket],
  ['DELETE /api/v2/buckets/{id}', deleteBucket],
  ['GET /api/v2/authorizations', listAuthorizations],
  ['POST /api/v2/authorizations', createAuthorization],
  ['GET /api/v2/authorizations/{id}', getAuthorization],
  ['PATCH /api/v2/authorizations/{id}', updateAuthorization],
  ['DELETE /api/v2/authorizations/{id}', deleteAuthorization],
].map(([route, handler]) => [new RegExp(`^${route.replace('{id}', '([^/]+)')}$`), handler]);

function route(method, pathname) {
  for (const [pattern, handler] of routes) {
    const match = pattern.exec(`${method} ${pathname}`);
    if (match) return { handler, args: match.slice(1).map(decodeURIComponent) };
  }
  return null;
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  let found;
  try {
    found = route(req.method, url.pathname);
  } catch (e) {
    found = null; // a malformed escape in the path
  }
  if (!found) return send(res, 404, { code: 'not found', message: 'path not found' });
  try {
    await found.handler(req, res, url, ...found.args);
  } catch (e) {
    // Never echo the request (it may hold a token); say what kind of failure it was.
    if (e.status) return send(res, e.status, { code: e.code || 'invalid', message: e.message });
    const answer = influxError(e);
    if (answer) return send(res, ...answer);
    console.error(`${req.method} ${url.pathname}: ${e.code || ''} ${e.message}`);
    send(res, 500, { code: 'internal error', message: 'internal error' });
  }
});

server.listen(PORT, HOST, () => console.log(`influx_tokens front end listening on http://${HOST}:${PORT}`));
process.on('SIGTERM', () => server.close(() => pool.end()));
