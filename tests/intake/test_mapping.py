"""intake/mapping.py: headers of our export, Pardot's and Salesforce's reports, custom fields."""

import pytest

from intake.mapping import (
    duplicate_headers,
    field_choices,
    for_template,
    from_template,
    guess_mapping,
    mapping_problems,
)
from prospects.models import CustomField

pytestmark = pytest.mark.django_db


def test_salesforce_lead_report_headers():
    headers = ["Lead ID", "Salutation", "First Name", "Last Name", "Title", "Company / Account",
               "E-mail Address", "Street", "City", "State/Province", "Zip/Postal Code",
               "Lead Source", "No. of Employees", "Lead Owner", "Rating"]  # fmt: skip
    assert guess_mapping(headers) == {
        "0": "crm_id", "1": "salutation", "2": "first_name", "3": "last_name", "4": "job_title",
        "5": "company", "6": "email", "7": "address_one", "8": "city", "9": "state",
        "10": "zip", "11": "source", "12": "employees",
    }  # fmt: skip


def test_pardot_prospect_export_headers():
    headers = ["Id", "Email", "First Name", "Last Name", "Company", "Job Title",
               "Address One", "Address Two", "Zip", "Annual Revenue", "Years In Business",
               "Opted Out", "Do Not Call", "CRM Lead FID", "Score", "Grade"]  # fmt: skip
    mapping = guess_mapping(headers)
    assert "0" not in mapping  # Pardot's id is not ours
    assert [mapping[str(i)] for i in range(1, 16)] == [
        "email", "first_name", "last_name", "company", "job_title", "address_one",
        "address_two", "zip", "annual_revenue", "years_in_business", "opted_out",
        "do_not_call", "crm_id", "score", "grade",
    ]  # fmt: skip


def test_our_own_names_and_labels_and_custom_fields():
    CustomField.objects.create(label="Product interest", api_name="Product_Interest")
    headers = ["email", "first_name", "ZIP / postal code", "Product interest", "Product_Interest__c",
               "custom:Product_Interest", "Mystery"]  # fmt: skip
    mapping = guess_mapping(headers)
    assert mapping == {
        "0": "email",
        "1": "first_name",
        "2": "zip",
        "3": "custom:Product_Interest",
    }  # a field goes to its first column only; unknown columns are ignored


def test_a_second_email_column_is_left_for_the_marketer():
    assert guess_mapping(["Email", "Email Address"]) == {"0": "email"}
    assert duplicate_headers(["Email", "Name", " email ", "Name"]) == ["Email", "Name"]


def test_problems_name_the_columns_in_words():
    choices = dict(field_choices())
    headers = ["A", "B"]
    assert mapping_problems(headers, {"0": "email", "1": "email"}, choices) == [
        "column 1 ('A') and column 2 ('B') are both mapped to Email: choose one of them and "
        "set the other to “Ignore”."
    ]
    assert "No column is mapped to Email" in mapping_problems(headers, {"0": "city"}, choices)[0]
    assert mapping_problems(headers, {"0": "crm_id"}, choices) == []
    assert "unknown field" in mapping_problems(headers, {"1": "password"}, choices)[0]


def test_templates_keep_the_mapping_by_header_so_columns_can_move():
    saved = for_template(["Email", "Town"], {"0": "email", "1": "city"})
    assert saved == {"Email": "email", "Town": "city"}
    assert from_template(["town", "Other", "EMAIL"], saved) == {"0": "city", "2": "email"}
