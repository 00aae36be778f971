"""``$validate-code`` (ValueSet and CodeSystem): membership, code system checks, displays, issues."""
