"""SNOMED CT: expressions (post-coordination), $lookup properties, normal forms, expression subsumption,
ECL filters, implicit value sets and concept maps."""
