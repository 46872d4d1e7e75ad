// Bulk API 2.0 load: an insert job whose CSV jsforce streams up (chunked), one row refused.
'use strict';

const { login, run } = require('./client');

run(async (params) => {
  const { conn } = await login(params);
  const company = `Bulk load ${params.unique}`;
  const csv = [
    'LastName,Company,Customer_Comment__c',
    `Ada,${company},hello`,
    `Bo,${company},${'z'.repeat(101)}`,
    `Cy,${company},`,
  ].join('\n');
  const results = await conn.bulk2.loadAndWaitForResults({
    object: 'Lead',
    operation: 'insert',
    lineEnding: 'LF',
    input: `${csv}\n`,
    pollInterval: 200,
    pollTimeout: 60000,
  });
  const stored = await conn.query(
    `SELECT LastName, Customer_Comment__c FROM Lead WHERE Company = '${company}' ORDER BY LastName`,
  );
  return {
    successful: results.successfulResults.map((r) => ({
      created: r.sf__Created,
      hasId: r.sf__Id.length === 18,
      LastName: r.LastName,
    })),
    failed: results.failedResults.map((r) => ({ error: r.sf__Error, LastName: r.LastName })),
    unprocessed: results.unprocessedRecords.length,
    stored: stored.records.map((r) => ({
      LastName: r.LastName,
      Customer_Comment__c: r.Customer_Comment__c,
    })),
  };
});
