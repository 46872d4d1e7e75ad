// Limits: the /limits resource and the Sforce-Limit-Info header every call carries.
'use strict';

const { login, run } = require('./client');

run(async (params) => {
  const { conn } = await login(params);
  const limits = await conn.limits();
  return {
    dailyApiRequests: limits.DailyApiRequests,
    dailyBulkV2QueryJobs: limits.DailyBulkV2QueryJobs,
    apiUsage: conn.limitInfo.apiUsage,
  };
});
