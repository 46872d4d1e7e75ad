// Shared by the conformance scripts: read the org's parameters (JSON on stdin), log in with
// jsforce exactly as an application would, and print the scenario's result as one JSON object.
'use strict';

const fs = require('fs');
const jsforce = require('jsforce');

// The OAuth 2.0 password grant against the org's token endpoint (jsforce's `login`).
async function login(params) {
  const conn = new jsforce.Connection({
    oauth2: {
      loginUrl: params.loginUrl,
      clientId: params.clientId,
      clientSecret: params.clientSecret,
    },
    version: params.version,
  });
  const userInfo = await conn.login(params.username, params.password);
  return { conn, userInfo };
}

// A collection result as both clients can report it: ids become "has an id".
function outcome(result) {
  return {
    success: result.success,
    hasId: typeof result.id === 'string' && result.id.length === 18,
    errors: (result.errors || []).map((e) => ({
      statusCode: e.statusCode,
      message: e.message,
      fields: e.fields,
    })),
  };
}

// Run `scenario(params)`, print its result; on failure print the error and exit 1.
function run(scenario) {
  const params = JSON.parse(fs.readFileSync(0, 'utf8'));
  scenario(params).then(
    (result) => {
      process.stdout.write(JSON.stringify(result));
      process.exit(0); // keep-alive sockets must not hold the process open
    },
    (error) => {
      process.stderr.write(`${error.name}: ${error.message}\n${error.stack}\n`);
      process.exit(1);
    },
  );
}

module.exports = { login, outcome, run };
