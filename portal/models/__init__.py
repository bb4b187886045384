"""All tables of the core; the schema itself changes only through Alembic revisions."""
from portal.models.core import *  # noqa: F401,F403
from portal.models.core import (AuditEvent, LoginFailure, MailMessage, Membership, Organisation,
                                OrganisationKind, Region, UsedToken, User, UserSession, utcnow)
from portal.models.catalogue import (CareForm, StandardTrajectory, Surcharge,  # noqa: F401
                                     SurchargeQualification, Tariff, TariffVersion)
from portal.models.proposals import (CustomTrajectory, Proposal, ProposalApproval,  # noqa: F401
                                     ProposalAttachment, ProposalVersion)
from portal.models.realisation import (RealisationLine, RealisationReport,  # noqa: F401
                                       RealisationUpload, RealisationYearTotal)
from portal.models.settlement import (SettlementCostShare, SettlementLine,  # noqa: F401
                                      SettlementResponse, SettlementRun)
from portal.models.agreements import (ApiToken, BowWaveEvaluation, BudgetAgreement,  # noqa: F401
                                      ExtraCapacity, FrameworkAgreement, FrameworkSegment,
                                      MunicipalChoice)

__all__ = [
    "ApiToken", "AuditEvent", "CustomTrajectory", "Proposal", "ProposalApproval", "ProposalAttachment",
    "ProposalVersion", "BowWaveEvaluation", "BudgetAgreement", "CareForm", "ExtraCapacity",
    "FrameworkAgreement", "FrameworkSegment", "LoginFailure", "MailMessage", "Membership",
    "MunicipalChoice", "Organisation", "OrganisationKind", "Region", "StandardTrajectory",
    "Surcharge", "SurchargeQualification", "Tariff", "TariffVersion", "UsedToken", "User",
    "UserSession", "utcnow", "RealisationLine", "RealisationReport", "RealisationUpload", "RealisationYearTotal",
    "SettlementCostShare", "SettlementLine", "SettlementResponse", "SettlementRun",
]
