"""All tables of the core; the schema itself changes only through Alembic revisions."""
from portal.models.agreements import (  # noqa: F401
                                ApiToken,
                                BowWaveEvaluation,
                                BudgetAgreement,
                                ExtraCapacity,
                                FrameworkAgreement,
                                FrameworkSegment,
                                MunicipalChoice,
                                ObligationReport,
)
from portal.models.catalogue import (  # noqa: F401
                                CareForm,
                                StandardTrajectory,
                                Surcharge,
                                SurchargeQualification,
                                Tariff,
                                TariffVersion,
)
from portal.models.core import *  # noqa: F401,F403
from portal.models.core import (
                                AuditEvent,
                                LoginFailure,
                                MailMessage,
                                Membership,
                                Organisation,
                                OrganisationKind,
                                Region,
                                UsedToken,
                                User,
                                UserSession,
                                utcnow,
)
from portal.models.proposals import (  # noqa: F401
                                CustomTrajectory,
                                Proposal,
                                ProposalApproval,
                                ProposalAttachment,
                                ProposalVersion,
)
from portal.models.realisation import (  # noqa: F401
                                RealisationLine,
                                RealisationReport,
                                RealisationUpload,
                                RealisationYearFigure,
                                RealisationYearTotal,
)
from portal.models.settlement import SettlementCostShare, SettlementLine, SettlementResponse, SettlementRun  # noqa: F401

__all__ = [
    "ApiToken", "AuditEvent", "CustomTrajectory", "Proposal", "ProposalApproval", "ProposalAttachment",
    "ProposalVersion", "BowWaveEvaluation", "BudgetAgreement", "CareForm", "ExtraCapacity",
    "FrameworkAgreement", "FrameworkSegment", "LoginFailure", "MailMessage", "Membership",
    "MunicipalChoice", "ObligationReport", "Organisation", "OrganisationKind", "Region", "StandardTrajectory",
    "Surcharge", "SurchargeQualification", "Tariff", "TariffVersion", "UsedToken", "User",
    "UserSession", "utcnow", "RealisationLine", "RealisationReport", "RealisationUpload", "RealisationYearFigure",
    "RealisationYearTotal",
    "SettlementCostShare", "SettlementLine", "SettlementResponse", "SettlementRun",
]
