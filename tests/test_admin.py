"""Admin: the cash register screens (form rules, write-only Secret, webhook URLs, queue check), access, CSRF.

The fixtures here (``admin_app``, ``AdminClient``, ``register_data``) serve the other ``test_admin_*`` modules.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask_admin import Admin, AdminIndexView
from werkzeug.datastructures import MultiDict

from flask_komtet.emulator import KomtetEmulator

REGIONS = {"msk": "Москва", "spb": "Санкт-Петербург", "tver": "Тверь"}
SECRET = "Very-Secret-Key-7731"
REGISTERS = "/admin/komtet_registers/"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class AdminClient:
    """Flask's test client that keeps the last page's CSRF token and adds it to every POST."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()
        self.token = ""
        self.pages: list[str] = []

    def get(self, url: str, status: int = 200) -> str:
        response = self.client.get(url)
        assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[-2000:])
        return self._keep(response.get_data(as_text=True))

    def post(self, url: str, data: dict[str, Any] | list[tuple[str, Any]], *, status: int = 200,
             token: bool = True) -> str:
        items = list(data.items()) if isinstance(data, dict) else list(data)
        if token:
            if not self.token:
                self.get(REGISTERS)
            items.append(("csrf_token", self.token))
        response = self.client.post(url, data=MultiDict(items), follow_redirects=True)
        assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[-2000:])
        return self._keep(response.get_data(as_text=True))

    def _keep(self, page: str) -> str:
        self.pages.append(page)
        if match := CSRF.search(page):
            self.token = match.group(1)
        return page


def text(page: str) -> str:
    """The visible text of a page, spaces collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).replace("\u00a0", " ").split())


OPEN = object()


@pytest.fixture
def admin_app(make_app: Callable[..., Any]) -> Callable[..., tuple[Any, Any, Any]]:
    """``admin_app(admin_access=OPEN, index_view=None, order_loader=None, **config) -> (app, db, kassa)``.

    The app has a flask-admin ``Admin`` («Магазин») that ``init_app`` adds the views to. The admin is
    closed by default, so these tests open it with ``admin_access=lambda: True`` unless they give an
    index view (its own rule) or their own ``admin_access`` (``None``: no rule at all).
    """

    def factory(*, admin_access: Any = OPEN, index_view: Any = None, order_loader: Any = None,
                order_adapter: Any = None, **config: Any) -> tuple[Any, Any, Any]:
        if admin_access is OPEN:
            admin_access = None if index_view is not None else (lambda: True)
        config.setdefault("REGIONS", REGIONS)
        app, db, kassa = make_app(init=False, **config)
        admin = Admin(app, name="Магазин", index_view=index_view)
        kassa.init_app(app, db=db, admin=admin, admin_access=admin_access, order_loader=order_loader,
                       order_adapter=order_adapter)
        with app.app_context():
            db.create_all()
        return app, db, kassa

    return factory


@pytest.fixture
def emulator() -> Iterator[KomtetEmulator]:
    with KomtetEmulator(delay=0.02, seed=7) as emu:
        emu.add_shop("s1", SECRET, queues=(1, 2))
        yield emu


def register_data(**changes: Any) -> dict[str, Any]:
    """A complete, valid register form."""
    data = {
        "name": "Москва, Тверская", "region": "msk", "shop_id": "s1", "secret": SECRET, "queue_id": "1",
        "tax_system": "0", "vat": "22", "delivery_vat": "", "next_tax_system": "", "next_vat": "",
        "tax_change_date": "", "payment_method": "full_payment", "payment_object": "product",
        "top_up_payment_method": "advance", "top_up_payment_object": "payment", "top_up_name": "Пополнение баланса",
        "settlement_scheme": "single", "auto_fiscalize": "y", "internet": "y",
        "payment_address": "https://shop.test", "place_address": "", "company_inn": "", "name_template": "",
        "cashier_name": "", "cashier_inn": "", "is_active": "y", "api_url": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def registers(app: Any, kassa: Any) -> list[Any]:
    with app.app_context():
        CashRegister = kassa.models.CashRegister
        return list(kassa.state.session.scalars(sa.select(CashRegister).order_by(CashRegister.id)))


def create_register(client: AdminClient, **changes: Any) -> str:
    return client.post(REGISTERS + "new/", register_data(**changes))


# -- creating and listing -------------------------------------------------------------------


def test_create_register_shows_it_with_webhook_urls_and_copy_buttons(admin_app) -> None:
    app, db, kassa = admin_app()
    client = AdminClient(app)
    form = client.get(REGISTERS + "new/")
    for label in ("Регион", "Название", "ShopID", "Secret", "Система налогообложения при онлайн оплатах",
                  "Ставка налога", "ID очереди", "Способ расчета при онлайн оплатах",
                  "Способ расчета при онлайн пополнении баланса клиентами",
                  "Предмет расчета при онлайн пополнении баланса клиентами",
                  "Название позиции при онлайн пополнении баланса клиентами", "Активен при онлайн оплатах",
                  "Дополнительные регионы для онлайн оплат", "Печатать чек при онлайн оплате", "Место расчетов",
                  "Шаблон наименования позиции", "Кассир", "С какой даты", "Адрес API (для тестовой кассы)"):
        assert label in text(form), label
    page = create_register(client, name_template="{legal} за {name}")
    assert "Запись была создана" in text(page)
    [register] = registers(app, kassa)
    assert (register.name, register.region, register.shop_id, register.secret, register.queue_id) == (
        "Москва, Тверская", "msk", "s1", SECRET, 1)
    assert (register.tax_system, register.vat, register.payment_method, register.settlement_scheme) == (
        0, "22", "full_payment", "single")
    assert register.auto_fiscalize and register.is_active and not register.print_receipt
    assert register.name_template == "{legal} за {name}" and register.place_address is None
    listing = client.get(REGISTERS)
    visible = text(listing)
    assert "Онлайн-кассы для фискализации" in visible
    for outcome in ("success", "failure"):
        url = f"http://shop.test/komtet/{register.id}/{outcome}"
        assert re.search(f'data-copy="{re.escape(url)}"', listing)
    assert visible.count("Копировать") == 2
    assert "navigator.clipboard" in listing and "execCommand" in listing
    assert "Москва" in visible and "ОСН" in visible and "НДС 22%" in visible and "Проверить очередь" in visible


def test_webhook_urls_without_public_url_use_the_request_host_and_say_so(admin_app) -> None:
    app, db, kassa = admin_app(PUBLIC_URL=None)
    client = AdminClient(app)
    create_register(client)
    listing = client.get(REGISTERS)
    assert 'data-copy="http://localhost/komtet/1/success"' in listing
    assert "KOMTET_KASSA_PUBLIC_URL не задан" in text(listing)


def test_extra_regions_are_a_multi_select_of_the_shops_regions_stored_as_a_list(admin_app) -> None:
    app, db, kassa = admin_app()
    client = AdminClient(app)
    form = client.get(REGISTERS + "new/")
    assert re.search(r'<select[^>]*multiple[^>]*name="extra_regions"|<select[^>]*name="extra_regions"[^>]*multiple',
                     form)
    assert '<option value="spb">Санкт-Петербург</option>' in form
    client.post(REGISTERS + "new/", list(register_data().items()) + [("extra_regions", "spb"),
                                                                     ("extra_regions", "tver")])
    [register] = registers(app, kassa)
    assert register.extra_regions == ["spb", "tver"]
    assert "+ Санкт-Петербург, Тверь" in text(client.get(REGISTERS))
    page = client.post(REGISTERS + "new/", list(register_data(name="Вторая", region="spb").items())
                       + [("extra_regions", "kazan")])
    assert "kazan" in text(page)
    assert len(registers(app, kassa)) == 1


def test_without_configured_regions_region_is_free_text(admin_app) -> None:
    app, db, kassa = admin_app(REGIONS=None)
    client = AdminClient(app)
    form = client.get(REGISTERS + "new/")
    assert re.search(r'<input[^>]*name="region"[^>]*type="text"|<input[^>]*type="text"[^>]*name="region"', form)
    create_register(client, region="ekb", extra_regions="perm, ufa")
    [register] = registers(app, kassa)
    assert register.region == "ekb" and register.extra_regions == ["perm", "ufa"]


# -- the form's rules ------------------------------------------------------------------------


@pytest.mark.parametrize("field, message", [
    ("name", "Обязательное поле"),
    ("region", "Обязательное поле"),
    ("shop_id", "Обязательное поле"),
    ("secret", "Укажите Secret"),
    ("queue_id", "Укажите ID очереди"),
    ("tax_system", "Обязательное поле"),
    ("vat", "Обязательное поле"),
    ("payment_address", "Обязательное поле"),
])
def test_required_fields(admin_app, field: str, message: str) -> None:
    app, db, kassa = admin_app()
    client = AdminClient(app)
    page = create_register(client, **{field: ""})
    assert message in text(page)
    assert "Не удалось создать запись: исправьте ошибки в форме" in text(page)
    assert registers(app, kassa) == []


@pytest.mark.parametrize("value, message", [
    ("0", "ID очереди — положительное целое число"),
    ("-3", "ID очереди — положительное целое число"),
    ("abc", "ID очереди"),
])
def test_queue_id_is_a_positive_integer(admin_app, value: str, message: str) -> None:
    app, db, kassa = admin_app()
    page = create_register(AdminClient(app), queue_id=value)
    assert message in text(page)
    assert registers(app, kassa) == []


@pytest.mark.parametrize("field, value, message", [
    ("vat", "18", "Ставка НДС 18% отменена с 1 января 2019 года"),
    ("vat", "118", "Ставка НДС 18/118 отменена"),
    ("next_vat", "18", "Ставка НДС 18% отменена"),
    ("delivery_vat", "118", "Ставка НДС 18/118 отменена"),
    ("tax_system", "3", "ЕНВД отменена с 1 января 2021 года"),
    ("next_tax_system", "3", "ЕНВД отменена"),
    ("vat", "13", "Выберите значение из списка"),
])
def test_obsolete_vat_and_tax_system_are_refused_with_the_reason(admin_app, field: str, value: str,
                                                                 message: str) -> None:
    app, db, kassa = admin_app()
    extra = {"tax_change_date": "2030-01-01"} if field.startswith("next_") else {}
    page = create_register(AdminClient(app), **{field: value}, **extra)
    assert message in text(page)
    assert registers(app, kassa) == []


def test_the_form_offers_only_current_vat_and_tax_systems(admin_app) -> None:
    app, db, kassa = admin_app()
    form = AdminClient(app).get(REGISTERS + "new/")
    vat = re.search(r'<select[^>]*name="vat".*?</select>', form, re.S).group(0)
    assert 'value="22"' in vat and 'value="122"' in vat and 'value="no"' in vat
    assert 'value="18"' not in vat and 'value="118"' not in vat
    tax = re.search(r'<select[^>]*name="tax_system".*?</select>', form, re.S).group(0)
    assert "ЕНВД" not in tax and "УСН доход" in tax and "Патент" in tax


def test_name_template_unknown_tag_is_named_and_known_tags_are_explained(admin_app) -> None:
    app, db, kassa = admin_app()
    client = AdminClient(app)
    form = text(client.get(REGISTERS + "new/"))
    for tag in ("{customer}", "{legal}", "{note}", "{custom_<поле>}", "{pay.ctt.tariff_name}"):
        assert tag in form, tag
    assert "ФИО клиента" in form and "комментарий к платежу" in form
    page = create_register(client, name_template="{legal} за {customr}")
    assert "Неизвестный тег {customr}" in text(page)
    assert registers(app, kassa) == []
    page = create_register(client, name_template="{legal} за {name")
    assert "непарная фигурная скобка" in text(page)
    create_register(client, name_template="{legal} за обучение {customer} - {custom_predmet}")
    assert registers(app, kassa)[0].name_template == "{legal} за обучение {customer} - {custom_predmet}"


def test_two_active_registers_may_not_share_a_primary_region(admin_app) -> None:
    app, db, kassa = admin_app()
    client = AdminClient(app)
    create_register(client)
    page = create_register(client, name="Вторая касса")
    assert "В регионе «Москва» уже есть активная касса «Москва, Тверская»" in text(page)
    assert len(registers(app, kassa)) == 1
    page = create_register(client, name="Запасная", is_active=None)  # inactive: allowed
    assert "Запись была создана" in text(page), text(page)
    create_register(client, name="Питер", region="spb")
    assert [r.name for r in registers(app, kassa)] == ["Москва, Тверская", "Запасная", "Питер"]
    first, spare, _ = registers(app, kassa)
    # Editing a register keeps its own region; switching the spare one on is refused.
    page = client.post(REGISTERS + f"edit/?id={first.id}", register_data(secret="", name="Москва, Тверская 2"))
    assert "Запись была сохранена" in text(page)
    page = client.post(REGISTERS + f"edit/?id={spare.id}", register_data(secret="", name="Запасная"))
    assert "В регионе «Москва» уже есть активная касса «Москва, Тверская 2»" in text(page)
    assert not registers(app, kassa)[1].is_active


@pytest.mark.parametrize("field, value, message", [
    ("company_inn", "7707083893", None),
    ("company_inn", "7707083894", "неверная контрольная сумма"),
    ("company_inn", "12345", "должен состоять из 10 или 12 цифр"),
    ("cashier_inn", "500100732259", None),
    ("cashier_inn", "7707083893", "должен состоять из 12 цифр"),
])
def test_inn_check_digits(admin_app, field: str, value: str, message: str | None) -> None:
    app, db, kassa = admin_app()
    page = create_register(AdminClient(app), **{field: value})
    if message is None:
        assert getattr(registers(app, kassa)[0], field) == value
    else:
        assert message in text(page)
        assert registers(app, kassa) == []


def test_scheduled_tax_change_needs_its_date_and_shows_what_is_in_force(admin_app) -> None:
    app, db, kassa = admin_app()
    client = AdminClient(app)
    page = create_register(client, vat="10", next_vat="22")
    assert "Укажите, с какой даты действуют новые СНО или ставка" in text(page)
    page = create_register(client, vat="10", tax_change_date="2030-01-01")
    assert "Выберите новую СНО или ставку налога для этой даты" in text(page)
    assert registers(app, kassa) == []
    create_register(client, vat="10", next_vat="22", next_tax_system="1", tax_change_date="2030-01-01")
    [register] = registers(app, kassa)
    assert (register.next_vat, register.next_tax_system, str(register.tax_change_date)) == ("22", 1, "2030-01-01")
    edit = text(client.get(REGISTERS + f"edit/?id={register.id}"))
    assert "Сейчас действует: ОСН, НДС 10%; с 01.01.2030: УСН доход, НДС 22%" in edit
    assert "с 01.01.2030: НДС 22%" in text(client.get(REGISTERS))


def test_api_url_must_be_a_url(admin_app) -> None:
    app, db, kassa = admin_app()
    page = create_register(AdminClient(app), api_url="not a url")
    assert "Нужен адрес вида" in text(page)
    assert registers(app, kassa) == []


# -- the Secret is write-only ---------------------------------------------------------------


def test_secret_is_never_rendered_kept_when_empty_and_changed_when_filled(admin_app) -> None:
    app, db, kassa = admin_app()
    client = AdminClient(app)
    create_register(client)
    [register] = registers(app, kassa)
    client.get(REGISTERS)
    client.get(REGISTERS + f"edit/?id={register.id}")
    client.get(REGISTERS + f"details/?id={register.id}")
    client.get(REGISTERS + "?search=s1")
    page = client.post(REGISTERS + f"edit/?id={register.id}", register_data(secret="", name="Переименована"))
    assert "Запись была сохранена" in text(page)
    [register] = registers(app, kassa)
    assert (register.name, register.secret) == ("Переименована", SECRET)
    client.post(REGISTERS + f"edit/?id={register.id}", register_data(secret="New-Secret-9"))
    assert registers(app, kassa)[0].secret == "New-Secret-9"
    client.get(REGISTERS + f"edit/?id={register.id}")
    client.get(REGISTERS + f"details/?id={register.id}")
    # a failed save re-renders the form: still without the secret that was typed
    client.post(REGISTERS + f"edit/?id={register.id}", register_data(secret="Typed-Secret-5", vat="18"))
    assert registers(app, kassa)[0].secret == "New-Secret-9"
    haystack = "\n".join(client.pages)
    assert SECRET not in haystack and "New-Secret-9" not in haystack and "Typed-Secret-5" not in haystack
    assert client.client.get(REGISTERS + "export/csv/").status_code in (302, 404)


# -- «Проверить очередь» ---------------------------------------------------------------------


def test_check_queue_shows_the_state_from_komtet(admin_app, emulator: KomtetEmulator) -> None:
    app, db, kassa = admin_app()
    client = AdminClient(app)
    create_register(client, api_url=emulator.url)
    create_register(client, name="Питер", region="spb", queue_id="2", api_url=emulator.url)
    create_register(client, name="Чужая", region="tver", secret="wrong-secret-123", api_url=emulator.url)
    create_register(client, name="Без очереди", region="tver", queue_id="9", is_active=None, api_url=emulator.url)
    first, second, wrong, missing = registers(app, kassa)
    emulator.shop("s1").queues[2] = "passive"
    page = text(client.post(REGISTERS + "check-queue/", {"id": first.id}))
    assert "Касса «Москва, Тверская»: очередь 1 активна" in page
    assert "активна" in text(client.get(REGISTERS))
    page = text(client.post(REGISTERS + "action/", [("action", "check_queue"), ("rowid", second.id),
                                                    ("rowid", wrong.id), ("rowid", missing.id)]))
    assert "Касса «Питер»: очередь 2 неактивна" in page
    assert "Касса «Чужая», очередь 1:" in page and "авторизац" in page.lower()
    assert "Касса «Без очереди», очередь 9:" in page
    assert "wrong-secret-123" not in "\n".join(client.pages) and SECRET not in "\n".join(client.pages)
    assert registers(app, kassa)[0].queue_state == "active"
    emulator.stop()
    page = text(client.post(REGISTERS + "check-queue/", {"id": first.id}))
    assert "Касса «Москва, Тверская», очередь 1:" in page


def test_deleting_a_register_with_receipts_is_refused(admin_app) -> None:
    from tests.shop_fixtures import make_order

    app, db, kassa = admin_app(DISPATCH="worker")
    client = AdminClient(app)
    create_register(client)
    create_register(client, name="Пустая", region="spb")
    used, empty = registers(app, kassa)
    with app.app_context():
        kassa.fiscalize(make_order("d-1"))
        db.session.commit()
    page = text(client.post(REGISTERS + "delete/", {"id": used.id}))
    assert "Нельзя удалить кассу «Москва, Тверская»: по ней есть чеки" in page
    client.post(REGISTERS + "delete/", {"id": empty.id})
    assert [r.name for r in registers(app, kassa)] == ["Москва, Тверская"]


# -- access and CSRF -------------------------------------------------------------------------

PAGES = (REGISTERS, REGISTERS + "new/", "/admin/komtet_receipts/", "/admin/komtet_fiscalize/")


def test_admin_access_false_refuses_every_view(admin_app) -> None:
    allowed = {"yes": False}
    app, db, kassa = admin_app(admin_access=lambda: allowed["yes"])
    client = app.test_client()
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    assert client.post(REGISTERS + "new/", data=register_data()).status_code == 403
    assert client.post("/admin/komtet_receipts/run/", data={"id": 1, "op": "send"}).status_code == 403
    assert "Онлайн-кассы" not in client.get("/admin/").get_data(as_text=True)
    allowed["yes"] = True
    for url in PAGES:
        assert client.get(url).status_code == 200, url


class _ClosedIndex(AdminIndexView):
    def is_accessible(self) -> bool:
        return False


def test_the_host_index_rule_is_used_by_default(admin_app) -> None:
    app, db, kassa = admin_app(index_view=_ClosedIndex())
    client = app.test_client()
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    app2, _, _ = admin_app(index_view=_ClosedIndex(), admin_access=lambda: True)
    assert app2.test_client().get(REGISTERS).status_code == 200


def test_post_without_csrf_token_is_refused(admin_app) -> None:
    app, db, kassa = admin_app(flask_config={"WTF_CSRF_ENABLED": True})
    client = AdminClient(app)
    page = client.post(REGISTERS + "new/", register_data(), token=False)
    assert "CSRF" in text(page)
    assert registers(app, kassa) == []
    page = client.post(REGISTERS + "new/", register_data() | {"csrf_token": "forged"}, token=False)
    assert registers(app, kassa) == []
    create_register(client)
    [register] = registers(app, kassa)
    page = client.post(REGISTERS + "check-queue/", {"id": register.id}, token=False)
    assert "Форма устарела (CSRF)" in text(page)
    page = client.post(REGISTERS + "action/", [("action", "check_queue"), ("rowid", register.id)], token=False)
    assert "очередь 1" not in text(page)


def test_views_are_new_per_app_and_use_the_configured_category(admin_app) -> None:
    app1, _, kassa = admin_app(ADMIN_CATEGORY="Касса")
    app2, _, _ = admin_app()
    views1 = app1.extensions["komtet_kassa"].admin_views
    views2 = app2.extensions["komtet_kassa"].admin_views
    assert [v.endpoint for v in views1] == ["komtet_summary", "komtet_registers", "komtet_receipts", "komtet_fiscalize"]
    assert not set(map(id, views1)) & set(map(id, views2))
    assert {v.category for v in views1} == {"Касса"} and {v.category for v in views2} == {"Онлайн-кассы"}
    menu = AdminClient(app1).get(REGISTERS)
    assert "Фискализировать заказ" in menu and "Чеки" in menu
