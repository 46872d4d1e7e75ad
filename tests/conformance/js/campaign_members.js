// Campaign members: a new campaign's statuses, members written as a collection (a duplicate
// and a status the campaign lacks refused), a status change, and the campaign's delete.
'use strict';

const { login, outcome, run } = require('./client');

run(async (params) => {
  const { conn } = await login(params);
  const company = `Campaign ${params.unique}`;
  const leads = await conn.sobject('Lead').create(
    [
      { LastName: 'Ada', Company: company },
      { LastName: 'Bo', Company: company },
    ],
    { allOrNone: false },
  );
  const [ada, bo] = leads.map((r) => r.id);
  const campaign = await conn.sobject('Campaign').create({ Name: company, IsActive: true });
  const statuses = await conn.query(
    `SELECT Label, IsDefault, HasResponded FROM CampaignMemberStatus ` +
      `WHERE CampaignId = '${campaign.id}' ORDER BY SortOrder`,
  );
  const created = await conn.sobject('CampaignMember').create(
    [
      { CampaignId: campaign.id, LeadId: ada },
      { CampaignId: campaign.id, LeadId: ada, Status: 'Responded' },
      { CampaignId: campaign.id, LeadId: bo, Status: 'Attended' },
    ],
    { allOrNone: false },
  );
  const updated = await conn
    .sobject('CampaignMember')
    .update([{ Id: created[0].id, Status: 'Responded' }], { allOrNone: false });
  const members = await conn.query(
    `SELECT LeadId, Status, HasResponded FROM CampaignMember WHERE CampaignId = '${campaign.id}'`,
  );
  await conn.sobject('Campaign').destroy(campaign.id);
  const gone = await conn.query(
    `SELECT IsDeleted FROM CampaignMember WHERE CampaignId = '${campaign.id}'`,
    { scanAll: true },
  );
  await conn.sobject('Lead').destroy([ada, bo]);
  return {
    statuses: statuses.records.map((r) => [r.Label, r.IsDefault, r.HasResponded]),
    created: created.map(outcome),
    updated: updated.map(outcome),
    members: members.records.map((r) => [r.LeadId === ada, r.Status, r.HasResponded]),
    deleted: gone.records.map((r) => r.IsDeleted),
  };
});
