"""Pages of the ideas domain: lists, the idea page, proposing, supports, comments, reports,
official responses and the officers' settings for a consultation's idea collection."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from civic.core.errors import DomainError, RuleViolation
from civic.core.forms import options, show_error
from civic.core.markdown import render_markdown
from civic.core.memo import Memo
from civic.core.permissions import Permission, requires
from civic.extensions import limiter
from civic.ideas import permissions as perms
from civic.ideas import services
from civic.ideas.forms import (
    CollectionForm,
    CommentForm,
    DeleteCommentForm,
    EditCommentForm,
    IdeaForm,
    ResponseForm,
    SupportForm,
    WithdrawForm,
)
from civic.ideas.models import ModerationMode, ResponseStatus
from civic.ideas.services import STATUS_FILTERS
from civic.moderation.forms import ReportForm  # one report form for every kind of content

bp = Blueprint("ideas", __name__)

bp.add_app_template_filter(render_markdown, "markdown")

from civic.ideas import hooks as _hooks  # noqa: E402, F401 - registers the domain's extension points


def _posting_limit(setting: str, kind: str):
    """Per-account limit on posts; only a post that was saved (a redirect) counts."""
    return limiter.limit(
        lambda: current_app.config[setting],
        methods=["POST"],
        key_func=lambda: f"{kind}:{current_user.get_id() and current_user.id}",
        deduct_when=lambda response: response.status_code in (302, 303),
    )


def _int_arg(name: str) -> int | None:
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def _wards_in_scope(consultation) -> list:
    """(id, name) of the wards inside the consultation's areas, in one query (no boundaries)."""
    return services.wards_in_scope(consultation)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


# --- Lists ----------------------------------------------------------------------------------

# A page's cards show nothing about the visitor, and its stamps (services.IdeaStamp) change
# whenever a card would: so the cards are rendered once per distinct page content and reused
# by every visitor and list that shows the same ideas in the same state (civic/core/memo.py).
# Only a ward's renaming (a boundary import) is not in the stamps: seen within a minute.
_CARDS = Memo("rendered idea cards", seconds=60)


def _cards(result: services.IdeaPageIndex) -> Markup:
    def render() -> Markup:
        ideas = services.ideas_by_id(result.ids)
        html = render_template("ideas/_idea_cards.html", ideas=ideas, status_filters=STATUS_FILTERS)
        return Markup(html)  # noqa: S704 - rendered by an autoescaping template

    return _CARDS.get(tuple(result.stamps), render) if result.stamps else Markup("")


# The ward filter's options (215 wards in Greater Manchester): built once per consultation,
# edit and chosen ward, not looped over in the template on every page.
_WARD_OPTIONS = Memo("ward filter options", seconds=60)


def _ward_options(consultation, selected: int | None) -> Markup:
    def render() -> Markup:
        option = Markup('<option value="{}"{}>{}</option>')
        chosen = Markup(" selected")
        return Markup("").join(
            option.format(w.id, chosen if w.id == selected else "", w.name) for w in services.wards_in_scope(consultation)
        )

    return _WARD_OPTIONS.get((consultation.id, consultation.updated_at, selected), render)


@bp.route("/consultations/<slug>/ideas", endpoint="list")
def list_ideas(slug: str):
    consultation = services.consultation_by_slug(slug)
    collection = services.collection_for(consultation)
    if collection is None or not services.is_public_consultation(consultation):
        abort(404)
    sort = request.args.get("sort", "top")
    if sort not in services.SORTS:
        sort = "top"
    seed = _int_arg("seed")
    if sort == "random" and seed is None:
        # The seed goes into the URL so that paging (and sharing the link) keeps the order.
        args = request.args.to_dict()
        args.update(sort="random", seed=services.new_seed(), page=1)
        return redirect(url_for("ideas.list", slug=slug, **args))
    query = services.ListQuery(
        sort=sort,
        seed=seed,
        status=request.args.get("status") or None,
        category=request.args.get("category") or None,
        ward_id=_int_arg("ward"),
        q=(request.args.get("q") or "")[:200],
        page=_int_arg("page") or 1,
    )
    result = services.list_index(consultation, query)
    refusal = perms.cannot_propose(current_user, consultation, collection)
    return render_template(
        "ideas/list.html",
        consultation=consultation,
        collection=collection,
        result=result,
        cards=_cards(result),
        ward_options=_ward_options(consultation, query.ward_id),
        status_filters=STATUS_FILTERS,
        propose_refusal=refusal,
        pending=services.pending_ideas_of(current_user, consultation),
        threshold=services.threshold_for(consultation, collection),
        support_form=SupportForm(),
    )


# --- Proposing ------------------------------------------------------------------------------


def _idea_form(consultation, collection, form=None):
    form = form or IdeaForm()
    form.category.choices = options([("", "Select a category")] + [(c, c) for c in collection.categories])
    form.ward_id.choices = options([(w.id, w.name) for w in _wards_in_scope(consultation)])
    return form


@bp.route("/consultations/<slug>/ideas/new", methods=["GET", "POST"])
@login_required
@_posting_limit("RATELIMIT_IDEAS", "idea")
def propose(slug: str):
    consultation = services.consultation_by_slug(slug)
    collection = services.collection_for(consultation)
    if collection is None:
        abort(404)
    refusal = perms.cannot_propose(current_user, consultation, collection)
    if refusal:
        return render_template("ideas/cannot_propose.html", consultation=consultation, refusal=refusal), 403
    form = _idea_form(consultation, collection)
    if request.method == "GET" and current_user.ward_id:
        form.ward_id.data = current_user.ward_id
    similar = None
    if form.validate_on_submit():
        if form.check.data:
            # The no-JavaScript step: show similar ideas before posting.
            similar = services.similar_ideas(consultation, f"{form.title.data} {form.body.data}")
        else:
            try:
                idea = services.propose_idea(
                    current_user,
                    consultation,
                    services.IdeaDraft(form.title.data, form.body.data, form.category.data, form.ward_id.data),
                )
            except RuleViolation as exc:
                show_error(form, exc)
            else:
                if idea.status == "pending":
                    flash("Your idea has been sent. An officer will check it before others can see it.")
                else:
                    flash("Your idea has been posted.")
                return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)
    return (
        render_template(
            "ideas/propose.html",
            consultation=consultation,
            collection=collection,
            form=form,
            similar=similar,
            pre_moderated=collection.moderation == ModerationMode.PRE.value,
        ),
        400 if form.errors else 200,
    )


@bp.route("/consultations/<slug>/ideas/similar.json")
def similar_json(slug: str):
    """Suggestions while typing a title (static/js/ideas.js)."""
    consultation = services.consultation_by_slug(slug)
    if services.collection_for(consultation) is None:
        abort(404)
    title = (request.args.get("title") or "")[:200]
    ideas = services.similar_ideas(consultation, title)
    return jsonify(
        [{"id": i.id, "title": i.title, "url": url_for("ideas.detail", idea_id=i.id), "supports": i.support_count} for i in ideas]
    )


# --- The idea page --------------------------------------------------------------------------


def _render_detail(idea, *, comment_form=None, response_form=None, status=200):
    consultation = idea.consultation
    collection = services.collection_for(consultation)
    threshold = services.threshold_for(consultation, collection)
    response_form = response_form or ResponseForm()
    if not response_form.is_submitted() and idea.response_status:
        response_form.status.data = idea.response_status
        response_form.text.data = idea.response_text
    return (
        render_template(
            "ideas/detail.html",
            idea=idea,
            consultation=consultation,
            collection=collection,
            threshold=threshold,
            supported=bool(services.supports_of(current_user, [idea.id])),
            support_refusal=perms.cannot_support(current_user, idea),
            comment_refusal=perms.cannot_comment(current_user, idea),
            threads=services.threads_for(current_user, idea, _int_arg("comments") or 1),
            support_form=SupportForm(),
            comment_form=comment_form or CommentForm(),
            response_form=response_form,
            withdraw_form=WithdrawForm(),
            delete_form=DeleteCommentForm(),
            can_edit=perms.can_edit_idea(current_user, idea),
            can_withdraw=perms.can_withdraw_idea(current_user, idea),
            can_respond=perms.can_respond(current_user),
            perms=perms,
            response_label=ResponseStatus(idea.response_status).label if idea.response_status else None,
        ),
        status,
    )


@bp.route("/ideas/<int:idea_id>")
def detail(idea_id: int):
    idea = services.visible_idea(current_user, idea_id)
    return _render_detail(idea)


@bp.route("/ideas/<int:idea_id>/edit", methods=["GET", "POST"])
@login_required
def edit(idea_id: int):
    idea = services.visible_idea(current_user, idea_id)
    if not perms.can_edit_idea(current_user, idea):
        return render_template("ideas/cannot_edit.html", idea=idea), 403
    collection = services.collection_for(idea.consultation)
    form = _idea_form(idea.consultation, collection, IdeaForm(obj=idea) if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.edit_idea(
                current_user,
                idea,
                services.IdeaDraft(form.title.data, form.body.data, form.category.data, form.ward_id.data),
            )
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("Your idea has been updated.")
            return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)
    return render_template("ideas/edit.html", idea=idea, form=form), 400 if form.errors else 200


@bp.route("/ideas/<int:idea_id>/withdraw", methods=["POST"])
@login_required
def withdraw(idea_id: int):
    idea = services.visible_idea(current_user, idea_id)
    if WithdrawForm().validate_on_submit():
        services.withdraw_idea(current_user, idea)
        flash("Your idea has been withdrawn.")
    return redirect(url_for("ideas.detail", idea_id=idea.id), code=303)


# --- Supports -------------------------------------------------------------------------------


def _support_response(result: services.SupportResult, message: str):
    if _wants_json():
        return jsonify({"idea_id": result.idea_id, "supported": result.supported, "count": result.count})
    flash(message)
    return redirect(url_for("ideas.detail", idea_id=result.idea_id), code=303)


def _support_refused(exc: DomainError):
    if _wants_json():
        return jsonify({"error": exc.message}), exc.status_code
    raise exc


@bp.route("/ideas/<int:idea_id>/support", methods=["POST"])
@requires(Permission.IDEAS_IDEA_SUPPORT)
def support(idea_id: int):
    return _change_support(services.support_idea, idea_id, "You support this idea.")


@bp.route("/ideas/<int:idea_id>/unsupport", methods=["POST"])
@requires(Permission.IDEAS_IDEA_SUPPORT)
def unsupport(idea_id: int):
    return _change_support(services.unsupport_idea, idea_id, "You no longer support this idea.")


def _change_support(change, idea_id: int, message: str):
    if not SupportForm().validate_on_submit():
        abort(400)
    try:
        result = change(current_user, idea_id)
    except DomainError as exc:
        return _support_refused(exc)
    return _support_response(result, message)


# --- Official responses ---------------------------------------------------------------------


@bp.route("/ideas/<int:idea_id>/response", methods=["POST"])
@requires(Permission.IDEAS_IDEA_RESPOND)
def respond(idea_id: int):
    idea = services.visible_idea(current_user, idea_id)
    form = ResponseForm()
    if form.validate_on_submit():
        try:
            services.respond_to_idea(current_user, idea, form.status.data, form.text.data)
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("The official response is published. The author and supporters have been emailed.")
            return redirect(url_for("ideas.detail", idea_id=idea.id, _anchor="response"), code=303)
    return _render_detail(idea, response_form=form, status=400)


# --- Comments -------------------------------------------------------------------------------


@bp.route("/ideas/<int:idea_id>/comments", methods=["POST"])
@requires(Permission.IDEAS_COMMENT_SUBMIT)
@_posting_limit("RATELIMIT_COMMENTS", "comment")
def comment(idea_id: int):
    idea = services.visible_idea(current_user, idea_id)
    form = CommentForm()
    if form.validate_on_submit():
        parent_id = int(form.parent_id.data) if (form.parent_id.data or "").isdigit() else None
        try:
            new = services.add_comment(current_user, idea.id, form.body.data, parent_id)
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("Your comment is waiting for an officer to check it." if new.status == "pending" else "Comment posted.")
            return redirect(url_for("ideas.detail", idea_id=idea.id, _anchor=f"comment-{new.id}"), code=303)
    return _render_detail(idea, comment_form=form, status=400)


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_comment(comment_id: int):
    comment = services.get_comment(comment_id)
    if not perms.can_see_idea(current_user, comment.idea):
        abort(404)
    if not perms.can_edit_comment(current_user, comment):
        return render_template("ideas/cannot_edit.html", idea=comment.idea, comment=comment), 403
    form = EditCommentForm(obj=comment) if request.method == "GET" else EditCommentForm()
    if form.validate_on_submit():
        try:
            services.edit_comment(current_user, comment, form.body.data)
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("Your comment has been updated.")
            return redirect(url_for("ideas.detail", idea_id=comment.idea_id, _anchor=f"comment-{comment.id}"), code=303)
    return render_template("ideas/edit_comment.html", comment=comment, form=form), 400 if form.errors else 200


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
@login_required
def delete_comment(comment_id: int):
    comment = services.get_comment(comment_id)
    if DeleteCommentForm().validate_on_submit():
        services.delete_comment(current_user, comment)
        flash("Your comment has been removed.")
    return redirect(url_for("ideas.detail", idea_id=comment.idea_id), code=303)


# --- Reports --------------------------------------------------------------------------------


def _report(kind: str, subject, post_url: str, back_url: str, report):
    form = ReportForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            report(form.reason.data, form.note.data or "")
        except RuleViolation as exc:
            show_error(form, exc, default_field="reason")
        else:
            flash("Thank you. An officer will look at your report.")
            return redirect(back_url, code=303)
    return (
        render_template("ideas/report.html", kind=kind, subject=subject, form=form, post_url=post_url, back_url=back_url),
        400 if form.errors else 200,
    )


@bp.route("/ideas/<int:idea_id>/report", methods=["GET", "POST"])
@requires(Permission.MODERATION_CONTENT_REPORT)
def report_idea(idea_id: int):
    idea = services.visible_idea(current_user, idea_id)
    url = url_for("ideas.report_idea", idea_id=idea.id)
    back = url_for("ideas.detail", idea_id=idea.id)
    return _report("idea", idea, url, back, lambda r, n: services.report_idea(current_user, idea.id, r, n))


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@requires(Permission.MODERATION_CONTENT_REPORT)
def report_comment(comment_id: int):
    comment = services.get_comment(comment_id)
    if not perms.can_see_comment(current_user, comment) or not perms.can_see_idea(current_user, comment.idea):
        abort(404)
    url = url_for("ideas.report_comment", comment_id=comment.id)
    back = url_for("ideas.detail", idea_id=comment.idea_id, _anchor=f"comment-{comment.id}")
    return _report("comment", comment, url, back, lambda r, n: services.report_comment(current_user, comment.id, r, n))


# --- Officers: idea collection settings -----------------------------------------------------


@bp.route("/manage/consultations/<slug>/ideas", methods=["GET", "POST"])
@requires(Permission.CONSULTATIONS_CONSULTATION_MANAGE)
def manage(slug: str):
    consultation = services.consultation_by_slug(slug)
    collection = services.collection_for(consultation)
    form = CollectionForm()
    if request.method == "GET":
        form.enabled.data = "yes" if collection else "no"
        form.moderation.data = collection.moderation if collection else ModerationMode.POST.value
        form.threshold.data = collection.threshold_basis_points if collection else 100
        form.categories.data = "\n".join(collection.categories) if collection else ""
    if form.validate_on_submit():
        try:
            services.save_collection(
                current_user,
                consultation,
                services.CollectionSettings(
                    enabled=form.enabled.data == "yes",
                    moderation=form.moderation.data or ModerationMode.POST.value,
                    threshold_basis_points=form.threshold.data,
                    categories=(form.categories.data or "").splitlines(),
                ),
            )
        except RuleViolation as exc:
            show_error(form, exc)
        else:
            flash("Idea settings saved.")
            return redirect(url_for("ideas.manage", slug=slug), code=303)
    return (
        render_template(
            "ideas/manage.html",
            consultation=consultation,
            collection=collection,
            form=form,
            adults=services.eligible_adult_population(consultation),
            threshold=services.threshold_for(consultation, collection),
        ),
        400 if form.errors else 200,
    )
