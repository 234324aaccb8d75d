"""The console's composition root: build the service, runner, controllers and views, wire them.

`Console` is what the tests drive; `run_console` is what `abhaya console` calls, through
host.ConsoleHost, which rebuilds the console when the parent changes its language.  The order of
a start: ask whether a PIN is set, show the sign-in (or first-PIN) dialog, then the window with
the dashboard; Activity loads its first page once the policy's time zone is known.  A rebuilt
console starts from `take_over` instead: signed in already, same page, same place on screen.
Whatever would drop the Rules page's edits not saved yet (another child, "Refresh", a new
language, the window closed) goes through `UnsavedRules.before`, which asks the parent first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from abhaya.ui.console.accounts import person_accounts
from abhaya.ui.console.controllers.activity import ActivityController, FilterInput
from abhaya.ui.console.controllers.alerts import AlertsController
from abhaya.ui.console.controllers.dashboard import DashboardController, DashboardState
from abhaya.ui.console.controllers.reports import ReportsController
from abhaya.ui.console.controllers.requests import RequestsController
from abhaya.ui.console.controllers.rules import RulesController
from abhaya.ui.console.controllers.securesites import SecureSitesController
from abhaya.ui.console.controllers.session import SessionController
from abhaya.ui.console.controllers.settings import SettingsController
from abhaya.ui.console.controllers.sites import SitesController
from abhaya.ui.console.controllers.unsaved import Answer, UnsavedRules
from abhaya.ui.console.controllers.walkthrough import (
    CheckLine,
    Shown,
    WalkthroughController,
    WalkthroughStart,
)
from abhaya.ui.console.runner import Health, Runner
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.settings import default_settings_path, load_settings
from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.activity import ActivityView
from abhaya.ui.console.views.alerts import AlertsView
from abhaya.ui.console.views.dashboard import DashboardView
from abhaya.ui.console.views.reports import ReportsView, write_pdf
from abhaya.ui.console.views.requests import RequestsView
from abhaya.ui.console.views.rules import RulesView
from abhaya.ui.console.views.settings import SettingsView
from abhaya.ui.console.views.signin import SignInDialog
from abhaya.ui.console.views.unsaved import ask_unsaved
from abhaya.ui.console.views.walkthrough import WalkthroughDialog
from abhaya.ui.console.views.window import MainWindow


class Console:
    def __init__(
        self,
        service: ConsoleService,
        texts: Texts,
        on_cancel: Callable[[], None] = QApplication.quit,
        settings_path: Path | None = None,
        accounts: Callable[[], tuple[str, ...]] = person_accounts,
    ) -> None:
        """`on_cancel` runs when the parent closes the sign-in before the window was shown;
        `settings_path` is the console's own settings file (settings.default_settings_path);
        `accounts` lists the OS accounts the walk-through offers for a child."""
        self.texts = texts
        self._on_cancel = on_cancel
        self.service = service
        self.runner = Runner()
        self.session = SessionController(service, self.runner, texts)
        self.dashboard = DashboardController(service, self.runner, texts)
        self.activity = ActivityController(service, self.runner, texts)
        self.sites = SitesController(service, self.runner, texts)
        self.alerts = AlertsController(service, self.runner, texts)
        self.requests = RequestsController(service, self.runner, texts)
        self.rules = RulesController(service, self.runner, texts)
        self.reports = ReportsController(
            service, self.runner, texts, lambda report, path: write_pdf(report, texts, path)
        )
        settings_path = settings_path or default_settings_path()
        self.settings = SettingsController(service, self.runner, texts, self.session, settings_path)
        self.secure_sites = SecureSitesController(service, self.runner, texts)
        self.walkthrough = WalkthroughController(
            service, self.runner, texts, settings_path, accounts
        )
        self.setup_dialog: WalkthroughDialog | None = None
        self.dashboard_view = DashboardView(texts)
        self.activity_view = ActivityView(
            texts,
            self.activity.model,
            self.activity.kind_choices(),
            self.activity.category_choices(),
            self.activity.reason_choices(),
        )
        self.alerts_view = AlertsView(texts)
        self.requests_view = RequestsView(texts)
        self.rules_view = RulesView(texts)
        self.reports_view = ReportsView(texts)
        self.settings_view = SettingsView(texts, texts.language)
        self.window = MainWindow(
            texts,
            [
                ("tabs.dashboard", self.dashboard_view),
                ("tabs.activity", self.activity_view),
                ("tabs.alerts", self.alerts_view),
                ("tabs.requests", self.requests_view),
                ("tabs.rules", self.rules_view),
                ("reports.tab", self.reports_view),
                ("settings.tab", self.settings_view),
            ],
        )
        self.dialog: SignInDialog | None = None
        self._activity_loaded = False
        self.unsaved = UnsavedRules(
            self.rules, lambda: (self.rules_view.filled, self.rules_view.form()), self._ask_unsaved
        )
        self.unsaved_box: QMessageBox | None = None
        """The last question about unsaved rules (Save, Discard, Cancel), for the tests."""
        self._closing = False
        self.window.may_close = self._may_close

        self.session.pin_needed.connect(self._ask_pin)
        self.session.busy.connect(lambda text: self._tell(text, busy=True))
        self.session.refused.connect(self._refused)
        self.session.signed_in.connect(self._signed_in)
        self.runner.health_changed.connect(self._health_changed)
        self.runner.signed_out.connect(self._signed_out)
        self.dashboard.updated.connect(self._dashboard_updated)
        self.activity_view.filters_chosen.connect(self.activity.apply)
        self.activity_view.row_chosen.connect(self.activity.choose)
        self.activity.detail.connect(self.activity_view.show_detail)
        self.activity.footer.connect(self.activity_view.show_footer)
        self.activity.chosen.connect(self.sites.offer_for)
        self.sites.profiles.connect(
            lambda names: self.activity_view.show_profiles(self.activity.profile_choices(names))
        )
        self.sites.offer.connect(self.activity_view.show_offer)
        self.sites.confirm.connect(self.activity_view.ask)
        self.sites.told.connect(self.activity_view.show_site_message)
        self.activity_view.site_asked.connect(self.sites.ask)
        self.activity_view.site_confirmed.connect(self.sites.change)
        self.alerts.listed.connect(self.alerts_view.show_rows)
        self.alerts.told.connect(self.alerts_view.message.setText)
        self.alerts_view.mark_reviewed.connect(self.alerts.mark_reviewed)
        self.alerts_view.include_reviewed.connect(self.alerts.set_include_reviewed)
        self.alerts_view.save_report.connect(self.alerts.save_report)
        self.requests.listed.connect(self.requests_view.show_rows)
        self.requests.told.connect(self.requests_view.tell)
        self.requests_view.approve.connect(self.requests.approve)
        self.requests_view.deny.connect(self.requests.deny)
        self.requests_view.include_answered.connect(self.requests.set_include_answered)
        self.rules.loaded.connect(self.rules_view.show_state)
        self.rules.refused.connect(self.rules_view.show_refusal)
        self.rules.told.connect(self.rules_view.tell)
        self.rules_view.profile_chosen.connect(self._choose_child)
        self.rules_view.save_requested.connect(self.rules.save)
        self.rules_view.reload_requested.connect(lambda: self.unsaved.before(self.rules.refresh))
        self.unsaved.save_refused.connect(
            lambda: self.window.tabs.setCurrentWidget(self.rules_view)
        )
        self.reports_view.make.connect(self.reports.make)
        self.reports_view.pdf_chosen.connect(lambda path: self.reports.save_pdf(Path(path)))
        self.reports_view.csv_chosen.connect(lambda path: self.reports.save_csv(Path(path)))
        self.reports.made.connect(self.reports_view.show_report)
        self.reports.told.connect(self.reports_view.message.setText)
        self.settings_view.change_pin.connect(self.settings.change_pin)
        self.settings_view.language_chosen.connect(self._choose_language)
        self.settings.pin_told.connect(self.settings_view.show_pin_message)
        self.settings.retention.connect(self.settings_view.show_retention)
        self.settings_view.save_retention.connect(self.settings.save_retention)
        self.settings.retention_told.connect(self.settings_view.retention_message.setText)
        self.settings.language_told.connect(self.settings_view.language_message.setText)
        secure_sites = self.settings_view.secure_sites
        self.secure_sites.choice.connect(secure_sites.show_choice)
        self.secure_sites.coverage.connect(secure_sites.coverage.setText)
        self.secure_sites.told.connect(secure_sites.message.setText)
        secure_sites.save.connect(self.secure_sites.save)
        self.window.tabs.currentChanged.connect(self._page_shown)
        self.settings_view.setup_child.connect(self.walkthrough.open)
        self.walkthrough.wanted.connect(self._open_walkthrough)
        self.walkthrough.refused.connect(self._setup_refused)
        self.walkthrough.told.connect(self._setup_told)
        self.walkthrough.saved.connect(self._setup_saved)
        self.walkthrough.checked.connect(self._setup_checked)

    def start(self) -> None:
        self.session.start()

    def take_over(self, old: Console) -> None:
        """Start in the place of `old` (the same session, a new language): its page, its size
        and place on screen, shown at once; the dashboard and the page refill themselves."""
        self.window.setGeometry(old.window.geometry())
        if old.window.isMaximized():
            self.window.showMaximized()
        self.window.tabs.setCurrentIndex(old.window.tabs.currentIndex())  # loads that page
        self._signed_in()

    def retire(self) -> None:
        """Stop answering for the window after `take_over`: no refresh, no sign-in, hidden.
        Calls already made still finish (into hidden widgets); `idle` says when they have."""
        self.dashboard.stop()
        self.runner.signed_out.disconnect(self._signed_out)
        self.runner.health_changed.disconnect(self._health_changed)
        self.window.hide()

    @property
    def idle(self) -> bool:
        return self.runner.pending == 0

    def _ask_unsaved(self, child: str, answered: Callable[[Answer], None]) -> None:
        self.unsaved_box = ask_unsaved(self.window, self.texts, child, answered)

    def _choose_child(self, name: str) -> None:
        state = self.rules.state
        shown = state.profile.name if state is not None else name
        self.unsaved.before(
            lambda: self.rules.choose_profile(name), lambda: self.rules_view.show_profile(shown)
        )

    def _choose_language(self, language: str) -> None:
        """Asked first, since the console is rebuilt in the new language (host.py): the
        language is saved, and the console rebuilt, only once the Rules page's edits are
        saved or dropped; Cancel leaves the language as it is, in the file too."""
        combo = self.settings_view.language
        self.unsaved.before(
            lambda: self.settings.set_language(language),
            lambda: combo.setCurrentIndex(max(0, combo.findData(self.texts.language))),
        )

    def _may_close(self) -> bool:
        if self._closing or not self.unsaved.has_unsaved():
            return True
        self.unsaved.before(self._close_now)
        return False

    def _close_now(self) -> None:
        self._closing = True
        self.window.close()

    def _health_changed(self, health: str) -> None:
        self.window.show_banner(health != Health.OK)

    def _ask_pin(self, pin_is_set: bool) -> None:
        if self.dialog is not None:
            if self.dialog.first != pin_is_set:
                self.dialog.show_message("")
                return
            self.dialog.rejected.disconnect(self._cancelled)  # replaced, not cancelled
            self.dialog.done(0)
        dialog = SignInDialog(self.texts, first=not pin_is_set, parent=self._dialog_parent())
        dialog.submitted.connect(self._submitted)
        dialog.rejected.connect(self._cancelled)
        self.dialog = dialog
        dialog.open()

    def _dialog_parent(self) -> MainWindow | None:
        return self.window if self.window.isVisible() else None

    def _submitted(self, pin: str, again: str) -> None:
        if self.dialog is not None and self.dialog.first:
            self.session.set_first_pin(pin, again)
        else:
            self.session.login(pin)

    def _tell(self, text: str, *, busy: bool = False) -> None:
        if self.dialog is not None:
            self.dialog.show_message(text, busy=busy)

    def _refused(self, text: str) -> None:
        if self.dialog is None:  # the agent did not answer whether a PIN is set
            self._ask_pin(True)
        self._tell(text)

    def _signed_in(self) -> None:
        first_pin = False
        if self.dialog is not None:
            first_pin = self.dialog.first
            self.dialog.rejected.disconnect(self._cancelled)
            self.dialog.accept()
            self.dialog = None
        shown_before = self.window.isVisible()
        self.window.show()
        self.dashboard.start()
        if not shown_before:
            self.walkthrough.offer(first_pin)

    def _open_walkthrough(self, start: WalkthroughStart) -> None:
        """The walk-through beside the window, not modal: the parent may look at the other
        pages meanwhile.  One at a time (a second request raises it)."""
        if self.setup_dialog is not None:
            self.setup_dialog.raise_()
            return
        dialog = WalkthroughDialog(self.texts, start, parent=self.window)
        dialog.skipped.connect(self.walkthrough.skip)
        dialog.finished_children.connect(self.walkthrough.finish)
        dialog.check_again.connect(self.walkthrough.check)
        dialog.finished.connect(self._walkthrough_closed)
        self.setup_dialog = dialog
        dialog.show()

    def _walkthrough_closed(self) -> None:
        self.setup_dialog = None

    def _setup_refused(self, shown: Shown) -> None:
        if self.setup_dialog is not None:
            self.setup_dialog.show_refusal(shown)

    def _setup_told(self, text: str) -> None:
        if self.setup_dialog is not None:
            self.setup_dialog.tell(text)
        else:
            self.settings_view.setup_message.setText(text)

    def _setup_checked(self, lines: tuple[CheckLine, ...]) -> None:
        if self.setup_dialog is not None:
            self.setup_dialog.show_results(lines)

    def _setup_saved(self) -> None:
        if self.setup_dialog is not None:
            self.setup_dialog.show_check()
        if self.rules.state is not None and not self.unsaved.has_unsaved():
            self.rules.refresh()  # the new profiles appear (after a save, when edits wait)

    def _signed_out(self) -> None:
        self.dashboard.stop()
        self.service.forget_session()
        if self.dialog is None:
            self._ask_pin(True)
            self._tell(self.texts("app.signed_out"))

    def _cancelled(self) -> None:
        self.dialog = None
        if not self.window.isVisible():
            self._on_cancel()

    def _page_shown(self, _: int) -> None:
        """Alerts, requests and Activity's children are read again each time their page is
        opened."""
        if not self.service.signed_in:
            return
        if self.window.tabs.currentWidget() is self.activity_view and self._activity_loaded:
            self.sites.refresh()  # the children and the lists, as the Rules page may have changed
        elif self.window.tabs.currentWidget() is self.alerts_view:
            self.alerts.refresh()
        elif self.window.tabs.currentWidget() is self.requests_view:
            self.requests.refresh()
        elif self.window.tabs.currentWidget() is self.rules_view and self.rules.state is None:
            self.rules.refresh()  # once: a later visit keeps the parent's unsaved edits
        elif self.window.tabs.currentWidget() is self.reports_view and self.reports.report is None:
            self.reports.make()
        elif self.window.tabs.currentWidget() is self.settings_view:
            self.settings.refresh()
            self.secure_sites.refresh()

    def _dashboard_updated(self, state: DashboardState) -> None:
        self.dashboard_view.show_state(state)
        self.activity.set_timezone(state.timezone)
        self.alerts.zone = self.requests.zone = self.activity.model.zone
        if not self._activity_loaded:
            self._activity_loaded = True
            self.activity.apply(FilterInput())
            self.sites.refresh()

    def close(self) -> None:
        """Close for good, asking nothing (the app is ending, or the tests are done)."""
        self.dashboard.stop()
        self._closing = True
        self.window.close()
        self.runner.wait_idle(15_000)


def run_console(data_dir: Path, language: str | None) -> int:
    """`abhaya console`: the window until the parent closes it (or cancels the sign-in).

    `language` None means the one saved on the Settings page (English when none is).
    """
    from abhaya.ui.console.host import ConsoleHost

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings_path = default_settings_path()
    chosen = language or load_settings(settings_path).language
    host = ConsoleHost(ConsoleService(data_dir), chosen, settings_path=settings_path)
    app.setApplicationName("Abhaya")
    host.start()
    code = app.exec()
    host.close()
    return code
