"""Users, profiles, roles and licenses through simple-salesforce, as the real API shows them;
an inactive user is refused as an owner with Salesforce's own error."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


@pytest.fixture
def admin_sf(sandbox_org):
    return sandbox_org.admin()


def _user(sf, username: str) -> dict:
    return sf.query(
        "SELECT Id, Name, Email, Username, IsActive, UserType, Profile.Name, Profile.UserType, "
        f"UserRole.Name, UserRole.PortalType FROM User WHERE Username = '{username}'"
    )["records"][0]


def test_users_carry_profile_role_and_user_type(sf):
    alice = _user(sf, "alice@acme.example")
    assert (alice["Name"], alice["IsActive"], alice["UserType"]) == ("Alice Ames", True, "Standard")
    assert alice["Profile"]["attributes"]["type"] == "Profile"
    assert (alice["Profile"]["Name"], alice["Profile"]["UserType"]) == ("Standard User", "Standard")
    assert alice["UserRole"]["Name"] == "Sales Rep"
    partner = _user(sf, "pat@globex.example")
    assert partner["UserType"] == "PowerPartner"
    assert partner["UserRole"]["PortalType"] == "Partner"
    connector = _user(sf, "connector@acme.example")
    assert connector["UserRole"] is None  # a lookup that is empty nests as null


def test_profiles_have_a_license_and_a_user_type(sf):
    rows = sf.query("SELECT Id, Name, UserType, UserLicense.Name FROM Profile ORDER BY Name")[
        "records"
    ]
    by_name = {r["Name"]: r for r in rows}
    assert by_name["Partner Community User"]["UserType"] == "PowerPartner"
    assert by_name["Partner Community User"]["UserLicense"]["Name"] == "Partner Community"
    assert by_name["System Administrator"]["UserLicense"]["Name"] == "Salesforce"
    assert all(r["Id"].startswith("00e") for r in rows)


def test_roles_form_a_hierarchy(sf):
    rows = sf.query("SELECT Id, Name, ParentRoleId, ParentRole.Name FROM UserRole")["records"]
    by_name = {r["Name"]: r for r in rows}
    assert by_name["Sales Rep"]["ParentRole"]["Name"] == "CEO"
    assert by_name["CEO"]["ParentRoleId"] is None
    assert all(r["Id"].startswith("00E") for r in rows)


def test_users_change_incrementally_by_system_modstamp(sf):
    rows = sf.query("SELECT Id FROM User WHERE SystemModstamp > 2000-01-01T00:00:00Z")["records"]
    assert len(rows) >= 9


def test_an_inactive_owner_is_refused_with_salesforces_error(sf):
    ivan = _user(sf, "ivan@acme.example")
    assert ivan["IsActive"] is False
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "Owned", "Company": "Acme", "OwnerId": ivan["Id"]})
    assert caught.value.content == [
        {
            "message": f"operation performed with inactive user [{ivan['Id']}] as owner of lead",
            "errorCode": "INACTIVE_OWNER_OR_USER",
            "fields": [],
        }
    ]


def test_deactivating_a_user_through_the_api_refuses_them_as_owner_and_at_login(
    sf, admin_sf, sandbox_org
):
    arthur = _user(sf, "arthur@acme.example")
    admin_sf.User.update(arthur["Id"], {"IsActive": False})
    try:
        assert _user(sf, "arthur@acme.example")["IsActive"] is False
        lead = sf.Lead.create({"LastName": "Owned", "Company": "Acme"})
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.Lead.update(lead["id"], {"OwnerId": arthur["Id"]})
        assert caught.value.content[0]["errorCode"] == "INACTIVE_OWNER_OR_USER"
        refused = sandbox_org.session().post(
            f"{sandbox_org.login_url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": sandbox_org.client_id,
                "client_secret": sandbox_org.client_secret,
                "username": "arthur@acme.example",
                "password": "sales-demo-1",
            },
        )
        assert refused.status_code == 400
    finally:
        admin_sf.User.update(arthur["Id"], {"IsActive": True})
    sf.Lead.update(lead["id"], {"OwnerId": arthur["Id"]})
    assert sf.Lead.get(lead["id"])["OwnerId"] == arthur["Id"]
