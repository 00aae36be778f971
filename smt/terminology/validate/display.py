"""Display checks of ``$validate-code``: the displays accepted for a concept and the issues of the one given.

Accepted displays are those in the requested languages (``displayLanguage``), else all of them. A display that is
not accepted is a wrong display (or wrong whitespace), an error unless ``lenient-display-validation``; an inactive
designation (a retired SNOMED CT description, a deprecated FHIR designation) is a warning instead; an accepted
display given for a language the code system has no display in gets an information note.
"""

from __future__ import annotations

from smt.codesystems.languages import language_preferences
from smt.codesystems.provider import CodeSystemProvider
from smt.index.reader import ConceptRecord, DesignationRecord
from smt.terminology.codesystem import Issue
from smt.terminology.validate.issues import issue_path
from smt.terminology.validate.options import ValidateOptions


def display_issues(given: str | None, provider: CodeSystemProvider, concept: ConceptRecord,
                   designations: list[DesignationRecord], options: ValidateOptions, where: str) -> list[Issue]:
    """The issues of the display given for a concept of the value set (``designations``: the concept's)."""
    valid = _valid_displays(provider, concept, [d for d in designations if d.active], options.display_language)
    if given is None:
        return []
    # the inactive descriptions are read only for a display that is not a valid one
    retired = None if given in valid else _inactive_display(
        given, valid, provider.designations(concept, include_inactive=True), concept.code, where,
        provider.retired_designation_status)
    if retired is not None:
        return [retired]
    if given not in valid:
        return [_display_issue(given, valid, provider, concept, options, where)]
    note = _default_language_note(given, provider, concept, options, where)
    return [note] if note else []


def _valid_displays(provider: CodeSystemProvider, concept: ConceptRecord, designations: list,
                   display_language: str | None) -> list[str]:
    """Displays accepted: all of them, or those in the requested languages when some are asked for."""
    every = [d for d in [concept.display, *(d.value for d in designations)] if d]
    wanted = {t.split("-")[0] for t in language_preferences(display_language) if t != "*"}
    if not wanted:
        return every
    own = (provider.meta.get("language") or "").lower().split("-")[0]
    chosen = [concept.display] if concept.display and (not own or own in wanted) else []
    chosen += [d.value for d in designations if d.language and d.language.lower().split("-")[0] in wanted]
    return chosen or every


def _display_issue(given: str, valid: list[str], provider: CodeSystemProvider, concept: ConceptRecord,
                   options: ValidateOptions, where: str) -> Issue:
    squeeze = " ".join(given.split())
    whitespace = squeeze in valid
    wrong = "Wrong whitespace in Display Name" if whitespace else "Wrong Display Name"
    message_id = ("Display_Name_WS_for__should_be_one_of__instead_of" if whitespace
                  else "Display_Name_for__should_be_one_of__instead_of")
    severity = "warning" if options.lenient_display else "error"
    requested = ", ".join(t for t in language_preferences(options.display_language) if t != "*")
    in_language = _in_languages(provider, concept, requested)
    own = provider.meta.get("language")
    if requested and not in_language and own:
        text = (f"{wrong} '{given}' for {provider.url}#{concept.code}. There are no valid display names found "
                f"for language(s) '{requested}'. Default display is '{concept.display}'")
        return Issue(severity, "invalid", "invalid-display", text, issue_path(where, "display"),
                     message_id="NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_ERR")
    if requested and in_language:
        pairs = in_language
    else:
        pairs = [(concept.display or "", own or "")] + [(d.value, d.language or "")
                                                  for d in provider.designations(concept)
                                                  if provider.is_display_designation(d)]
        pairs = [(v, lang) for v, lang in pairs if v in valid]
    choices = list(dict.fromkeys(pairs))
    shown = " or ".join(f"'{v}' ({lang})" if lang else f"'{v}'" for v, lang in choices)
    valid_text = f"is {shown}" if len(choices) == 1 else f"is one of {len(choices)} choices: {shown}"
    text = (f"{wrong} '{given}' for {provider.url}#{concept.code}. Valid display {valid_text} "
            f"(for the language(s) '{requested or '--'}')")
    return Issue(severity, "invalid", "invalid-display", text, issue_path(where, "display"), message_id=message_id)


def _inactive_display(given: str | None, valid: list[str], designations: list[DesignationRecord], code: str,
                      where: str, status: str = "inactive") -> Issue | None:
    """A warning when the display given is an inactive description of the concept (not a valid one); ``status``
    names it: ``inactive`` (SNOMED CT description) or ``deprecated`` (FHIR designation marked deprecated or
    withdrawn by its ``structuredefinition-standards-status``)."""
    if given is None or given in valid or not any(d.value == given and not d.active for d in designations):
        return None
    shown = ",".join(f'"{v}"' if " " in v else v for v in sorted(set(valid)))
    text = (f"'{given}' is no longer considered a correct display for code '{code}' (status = {status}). The "
            f"correct display is one of {shown}.")
    return Issue("warning", "invalid", "display-comment", text, issue_path(where, "display"), False,
                 message_id="INACTIVE_DISPLAY_FOUND")


def _default_language_note(given: str, provider: CodeSystemProvider, concept: ConceptRecord,
                           options: ValidateOptions, where: str) -> Issue | None:
    """A valid display given for a language the code system has no display in: an information note."""
    requested = ", ".join(t for t in language_preferences(options.display_language) if t != "*")
    if not requested or not provider.meta.get("language") or _in_languages(provider, concept, requested):
        return None
    text = (f"There are no valid display names found for the code {provider.url}#{concept.code} for language(s) "
            f"'{requested}'. The display is '{given}' which is a valid display for the default language")
    return Issue("information", "invalid", "invalid-display", text, issue_path(where, "display"), True,
                 message_id="NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_OK")


def _in_languages(provider: CodeSystemProvider, concept: ConceptRecord, requested: str) -> list[tuple[str, str]]:
    """(display, language) of the concept in the requested languages (primary subtags compared)."""
    wanted = {t.strip().split("-")[0] for t in requested.split(",") if t.strip()}
    own = provider.meta.get("language") or ""
    found = [(concept.display, own)] if concept.display and own.split("-")[0] in wanted else []
    found += [(d.value, d.language) for d in provider.designations(concept)
              if d.language and d.language.lower().split("-")[0] in wanted]
    return found
