// Login: OAuth 2.0 password grant (a form body Node sends chunked), then the identity URL.
'use strict';

const { login, run } = require('./client');

run(async (params) => {
  const { conn, userInfo } = await login(params);
  const identity = await conn.identity();
  return {
    instanceUrl: conn.instanceUrl,
    hasAccessToken: Boolean(conn.accessToken),
    organizationId: userInfo.organizationId,
    userId: userInfo.id,
    identity: {
      username: identity.username,
      userId: identity.user_id,
      organizationId: identity.organization_id,
    },
  };
});
