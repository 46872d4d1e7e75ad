"""factory-boy factories shared by the tests and the demo loader."""

import random

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from prospects.models import Campaign, Grade, Prospect

INDUSTRIES = ["Software", "Manufacturing", "Healthcare", "Retail", "Finance", "Education"]
SOURCES = ["Web", "Trade show", "Webinar", "Referral", "Partner", "Paid search"]


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@leadbridge.example")
    password = factory.django.Password("leadbridge-test")


class CampaignFactory(DjangoModelFactory):
    class Meta:
        model = Campaign
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Campaign {n}")


class ProspectFactory(DjangoModelFactory):
    class Meta:
        model = Prospect

    salutation = factory.Faker("random_element", elements=["", "Mr.", "Ms.", "Dr."])
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    email = factory.LazyAttributeSequence(
        lambda p, n: (
            f"{p.first_name}.{p.last_name}.{n}@"
            f"{''.join(c for c in p.company.lower() if c.isalnum())[:20] or 'example'}.example"
        ).lower()
    )
    website = factory.LazyAttribute(lambda p: "https://www." + p.email.split("@")[1])
    job_title = factory.Faker("job")
    department = factory.Faker(
        "random_element", elements=["Marketing", "Sales", "IT", "Finance", "Operations"]
    )
    industry = factory.Faker("random_element", elements=INDUSTRIES)
    phone = factory.Faker("numerify", text="+1 (###) ###-####")
    address_one = factory.Faker("street_address")
    city = factory.Faker("city")
    # States the demo org's state/country picklists know (the sandbox refuses others, as
    # Salesforce does with state and country picklists on).
    state = factory.Faker(
        "random_element",
        elements=[
            "California",
            "New York",
            "Texas",
            "Illinois",
            "Washington",
            "Massachusetts",
            "Florida",
            "Georgia",
            "Colorado",
            "Oregon",
            "Pennsylvania",
            "Ohio",
        ],
    )
    zip = factory.Faker("postcode")
    country = "United States"
    source = factory.Faker("random_element", elements=SOURCES)
    score = factory.LazyFunction(lambda: random.choice([0, 5, 15, 40, 75, 120, 260]))
    grade = factory.Faker("random_element", elements=[g.value for g in Grade] + [""])
    employees = factory.Faker("random_int", min=1, max=20000)
    annual_revenue = factory.Faker("pydecimal", left_digits=8, right_digits=2, positive=True)
