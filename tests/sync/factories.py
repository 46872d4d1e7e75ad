"""factory-boy factories for the sync app's rows."""

import factory
from factory.django import DjangoModelFactory

from prospects.models import CustomField
from sync.models import Connector, DataSharingRule, FieldRule


class ConnectorFactory(DjangoModelFactory):
    class Meta:
        model = Connector
        django_get_or_create = ("name",)

    name = "Salesforce"
    login_url = "https://login.example.com"
    client_id = "leadbridge-test"
    client_secret = "test-secret"
    username = "connector@example.com"
    password = "test-password"


class FieldRuleFactory(DjangoModelFactory):
    class Meta:
        model = FieldRule

    connector = factory.SubFactory(ConnectorFactory)
    prospect_field = factory.Sequence(lambda n: f"custom:field_{n}")


class CustomFieldFactory(DjangoModelFactory):
    class Meta:
        model = CustomField

    label = factory.Sequence(lambda n: f"Custom {n}")
    api_name = factory.Sequence(lambda n: f"custom_{n}")


class DataSharingRuleFactory(DjangoModelFactory):
    class Meta:
        model = DataSharingRule

    connector = factory.SubFactory(ConnectorFactory)
    sobject = "Lead"
    field = "Region__c"
    value = "EMEA"
