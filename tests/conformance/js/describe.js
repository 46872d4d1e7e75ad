// Describe: the global list and Lead's describe, reduced to what a connector reads.
'use strict';

const { login, run } = require('./client');

run(async (params) => {
  const { conn } = await login(params);
  const global = await conn.describeGlobal();
  const lead = await conn.sobject('Lead').describe();
  const fields = Object.fromEntries(lead.fields.map((f) => [f.name, f]));
  const field = (name) => ({
    type: fields[name].type,
    length: fields[name].length,
    nillable: fields[name].nillable,
    createable: fields[name].createable,
    updateable: fields[name].updateable,
  });
  return {
    globalHasLead: global.sobjects.some((s) => s.name === 'Lead'),
    name: lead.name,
    keyPrefix: lead.keyPrefix,
    createable: lead.createable,
    fields: Object.fromEntries(
      ['Id', 'Name', 'LastName', 'Company', 'Email', 'Customer_Comment__c'].map((n) => [n, field(n)]),
    ),
    statusValues: fields.Status.picklistValues.filter((v) => v.active).map((v) => v.value),
  };
});
