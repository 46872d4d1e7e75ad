import factory
from factory.django import DjangoModelFactory

from crm.models import CampaignMembership, CampaignMemberStatus, SalesforceCampaign
from prospects.factories import ProspectFactory


class SalesforceCampaignFactory(DjangoModelFactory):
    class Meta:
        model = SalesforceCampaign
        skip_postgeneration_save = True

    sf_id = factory.Sequence(lambda n: f"701{n:012d}AAA")
    name = factory.Sequence(lambda n: f"SF campaign {n}")
    is_active = True

    @factory.post_generation
    def statuses(self, create, extracted, **kwargs):
        labels = extracted if extracted is not None else [("Sent", False), ("Responded", True)]
        for order, (label, responded) in enumerate(labels):
            CampaignMemberStatus.objects.create(
                campaign=self,
                sf_id=f"01Y{self.pk:06d}{order:06d}AAA",
                label=label,
                is_default=order == 0,
                has_responded=responded,
                sort_order=order,
            )


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = CampaignMembership

    prospect = factory.SubFactory(ProspectFactory)
    campaign = factory.SubFactory(SalesforceCampaignFactory)
    status = "Sent"
