"""Organisation and employer RPCs (ID-1, ID-2). Placeholder: filled in by the organisations work."""


class OrganisationRpcs:
    pass
