// Query paging: pages of 200 followed with queryMore (nextRecordsUrl), for query and queryAll,
// and jsforce's own autoFetch.
'use strict';

const { login, run } = require('./client');

const SOQL = 'SELECT Id, LastName FROM Lead ORDER BY Id LIMIT 450';
const headers = { 'Sforce-Query-Options': 'batchSize=200' };

async function pages(conn, scanAll) {
  let page = await conn.query(SOQL, { autoFetch: false, scanAll, headers });
  // jsforce rebuilds nextRecordsUrl from the locator as an absolute URL: compare paths.
  const nextRecordsPath = new URL(page.nextRecordsUrl, conn.instanceUrl).pathname;
  const result = { totalSize: page.totalSize, nextRecordsPath, sizes: [] };
  const ids = new Set();
  for (;;) {
    result.sizes.push(page.records.length);
    page.records.forEach((r) => ids.add(r.Id));
    if (page.done) break;
    page = await conn.queryMore(page.nextRecordsUrl, { headers });
  }
  result.distinctIds = ids.size;
  return result;
}

run(async (params) => {
  const { conn } = await login(params);
  const fetched = await conn.query(SOQL, { headers }).run({ autoFetch: true, maxFetch: 10000 });
  return {
    query: await pages(conn, false),
    queryAll: await pages(conn, true),
    autoFetch: { totalSize: fetched.totalSize, records: fetched.records.length, done: fetched.done },
  };
});
