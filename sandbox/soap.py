"""SOAP ``login()`` (``POST /services/Soap/u/{version}``), for clients whose default login uses it.

The request is parsed by local name (prefixes vary by client); the answer uses unprefixed
elements in the partner namespace, and failures are HTTP 500 faults with ``sf:``-prefixed detail,
as simple-salesforce and jsforce read them.
"""

from xml.etree import ElementTree
from xml.sax.saxutils import escape

from sandbox import auth, person
from sandbox.models import ConnectedApp, OrgUser
from sandbox.schema import get_schema

DB = "sandbox"
FAULT = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:sf="urn:fault.partner.soap.sforce.com" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
    "<faultcode>INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, "
    "security token; or user locked out.</faultstring><detail><sf:LoginFault "
    'xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>'
    "<sf:exceptionMessage>Invalid username, password, security token; or user locked out."
    "</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body>"
    "</soapenv:Envelope>"
)


def _credentials(body: bytes) -> tuple[str, str]:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return "", ""
    values = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
    return values.get("username", ""), values.get("password", "")


def login(body: bytes, instance_url: str, version: str) -> tuple[int, bytes]:
    """(status, XML body) for a SOAP login request."""
    username, password = _credentials(body)
    user = OrgUser.objects.using(DB).select_related("org").filter(username=username).first()
    if user is None or not user.is_active or not auth.check_password(password, user.password):
        return 500, FAULT.encode()
    app = ConnectedApp.objects.using(DB).filter(org_id=user.org_id).first()
    token = auth.issue_session(user, app)
    server = f"{instance_url}/services/Soap/u/{version}/{user.org_id}"
    account = get_schema(user.org).sobject("Account")
    person_accounts = "true" if account and person.enabled(account) else "false"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse>'
        f"<result><metadataServerUrl>{instance_url}/services/Soap/m/{version}/{user.org_id}"
        "</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
        f"<serverUrl>{server}</serverUrl><sessionId>{escape(token)}</sessionId>"
        f"<userId>{user.pk}</userId><userInfo><orgHasPersonAccounts>{person_accounts}"
        f"</orgHasPersonAccounts><organizationId>{user.org_id}</organizationId>"
        f"<organizationName>{escape(user.org.name)}</organizationName>"
        f"<userId>{user.pk}</userId><userName>{escape(user.username)}</userName></userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )
    return 200, xml.encode()
