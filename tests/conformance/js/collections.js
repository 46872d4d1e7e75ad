// sObject Collections: create, update and delete arrays of records, one record failing each time.
'use strict';

const { login, outcome, run } = require('./client');

run(async (params) => {
  const { conn } = await login(params);
  const lead = conn.sobject('Lead');
  const company = `Collections ${params.unique}`;
  const created = await lead.create(
    [
      { LastName: 'One', Company: company },
      { LastName: 'Two', Company: company, Customer_Comment__c: 'y'.repeat(101) },
      { LastName: 'Three', Company: company },
    ],
    { allOrNone: false },
  );
  const ids = created.filter((r) => r.success).map((r) => r.id);
  const updated = await lead.update(
    [
      { Id: ids[0], Title: 'Buyer' },
      { Id: ids[1], Email: 'not-an-email' },
    ],
    { allOrNone: false },
  );
  const after = await conn.query(
    `SELECT LastName, Title FROM Lead WHERE Company = '${company}' ORDER BY LastName`,
  );
  const deleted = await lead.destroy(ids, { allOrNone: false });
  return {
    created: created.map(outcome),
    updated: updated.map(outcome),
    after: after.records.map((r) => ({ LastName: r.LastName, Title: r.Title })),
    deleted: deleted.map(outcome),
  };
});
