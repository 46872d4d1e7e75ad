// Users with their profile and role (parent relationships), and Salesforce's refusal of an
// inactive user as a record's owner.
'use strict';

const { login, run } = require('./client');

const SOQL =
  'SELECT Id, Username, IsActive, UserType, Profile.Name, UserRole.Name FROM User ' +
  "WHERE Username IN ('alice@acme.example', 'ivan@acme.example', 'pat@globex.example') " +
  'ORDER BY Username';

run(async (params) => {
  const { conn } = await login(params);
  const result = await conn.query(SOQL);
  const users = result.records.map((r) => ({
    username: r.Username,
    isActive: r.IsActive,
    userType: r.UserType,
    profile: r.Profile ? r.Profile.Name : null,
    role: r.UserRole ? r.UserRole.Name : null,
  }));
  const ivan = result.records.find((r) => r.Username === 'ivan@acme.example');
  let refusal = null;
  try {
    await conn.sobject('Lead').create({ LastName: 'Owned', Company: 'Acme', OwnerId: ivan.Id });
  } catch (error) {
    refusal = { errorCode: error.errorCode, message: error.message.replace(ivan.Id, '<id>') };
  }
  return { users, refusal };
});
