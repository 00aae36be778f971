"""Conformance harness for the HL7 FHIR terminology ecosystem test suite (``fhir-tx-tests``).

It mirrors the reference runner (``TxTester`` and ``CompareUtilities`` in org.hl7.fhir.core): each suite's
setup resources go with every request as ``tx-resource`` parameters, requests are converted from R5 to R4,
responses back to R5, scrubbed, sorted and compared with the expected JSON. Run it with
``python -m tests.conformance --mode general``; see ``docs/conformance.md``.
"""
