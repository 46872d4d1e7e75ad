// Bulk API 2.0 query: a query job, polled, its CSV results read as records.
'use strict';

const { login, run } = require('./client');

run(async (params) => {
  const { conn } = await login(params);
  const company = `Bulk query ${params.unique}`;
  await conn.sobject('Lead').create(
    ['Ada', 'Bo', 'Cy'].map((name) => ({ LastName: name, Company: company, Title: `${name} T` })),
    { allOrNone: true },
  );
  const stream = await conn.bulk2.query(
    `SELECT Id, LastName, Title, Company FROM Lead WHERE Company = '${company}' ORDER BY LastName`,
    { pollInterval: 200, pollTimeout: 60000 },
  );
  const records = await new Promise((resolve, reject) => {
    const rows = [];
    stream.on('record', (row) => rows.push(row));
    stream.on('end', () => resolve(rows));
    stream.on('error', reject);
  });
  return {
    records: records.map((r) => ({
      hasId: r.Id.length === 18,
      LastName: r.LastName,
      Title: r.Title,
      Company: r.Company,
    })),
  };
});
