"""The customer's side after checkout: orders, the (simulated) payment page, the balance.

Paying is where the shop talks to flask_komtet: the order is marked paid, the
``order_paid`` signal queues its receipt in the same transaction, and one
commit stores both. Nothing waits for KOMTET here.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from flask_komtet import signals

from .extensions import db
from .forms import ButtonForm, TopUpForm
from .models import BalanceTopUp, Customer, Order, OrderStatus, utcnow
from .receipts import PENDING, latest_sale, receipts_by_ref, receipts_for
from .views import current_customer

__all__ = ["bp"]

bp = Blueprint("account", __name__)


def _customer() -> Customer:
    customer = current_customer()
    if customer is None:
        abort(404)
    return customer


def _order(number: str) -> Order:
    order = db.session.scalar(db.select(Order).filter_by(number=number))
    if order is None or order.customer_id != _customer().id:
        abort(404)
    return order


@bp.get("/orders")
def orders() -> str:
    customer = current_customer()
    orders = customer.orders if customer else []
    receipts = receipts_by_ref(o.number for o in orders)
    return render_template("orders.html", orders=orders,
                           sales={o.number: latest_sale(receipts[o.number]) for o in orders})


@bp.get("/orders/<number>")
def order(number: str) -> str:
    order = _order(number)
    receipts = receipts_for(order.number)
    return render_template("order.html", order=order, receipts=receipts,
                           refreshing=any(r.state in PENDING for r in receipts))


@bp.route("/orders/<number>/pay", methods=["GET", "POST"])
def pay_order(number: str) -> str | Response:
    order = _order(number)
    if order.status != OrderStatus.NEW.value:
        return redirect(url_for(".order", number=number))
    form = ButtonForm()
    if form.validate_on_submit():
        outcome = request.form.get("outcome")
        if outcome == "balance" and order.customer.balance < order.total:
            flash("На балансе не хватает денег", "error")
        elif outcome in ("card", "balance"):
            if outcome == "balance":
                order.customer.balance -= order.total
            order.mark_paid(outcome)
            signals.order_paid.send(current_app._get_current_object(), order=order)
            db.session.commit()  # the paid order and its queued receipt, together
            flash("Оплата прошла. Спасибо за заказ!", "success")
            return redirect(url_for(".order", number=number))
        else:
            flash("Банк отклонил платеж. Попробуйте еще раз или другую карту.", "error")
    return render_template("pay.html", form=form, title=f"Оплата заказа №{order.number}", amount=order.total,
                           balance=order.customer.balance, back=url_for(".order", number=number))


@bp.get("/account")
def account() -> str:
    customer = _customer()
    refs = [t.ref for t in customer.top_ups]
    return render_template("account.html", customer=customer, form=TopUpForm(), receipts=receipts_by_ref(refs))


@bp.post("/account/top-up")
def top_up() -> str | Response:
    customer = _customer()
    form = TopUpForm()
    if not form.validate_on_submit():
        refs = [t.ref for t in customer.top_ups]
        return render_template("account.html", customer=customer, form=form, receipts=receipts_by_ref(refs))
    top_up = BalanceTopUp(customer=customer, amount=form.amount.data, region=customer.region)
    db.session.add(top_up)
    db.session.commit()
    return redirect(url_for(".pay_top_up", top_up_id=top_up.id))


@bp.route("/account/top-ups/<int:top_up_id>/pay", methods=["GET", "POST"])
def pay_top_up(top_up_id: int) -> str | Response:
    top_up = db.session.get(BalanceTopUp, top_up_id)
    if top_up is None or top_up.customer_id != _customer().id:
        abort(404)
    if top_up.paid_at is not None:
        return redirect(url_for(".account"))
    form = ButtonForm()
    if form.validate_on_submit():
        if request.form.get("outcome") == "card":
            top_up.paid_at = utcnow()
            top_up.customer.balance += top_up.amount
            signals.balance_topped_up.send(current_app._get_current_object(), customer=top_up.customer,
                                           amount=top_up.amount, region=top_up.region, ref=top_up.ref)
            db.session.commit()
            flash("Баланс пополнен", "success")
            return redirect(url_for(".account"))
        flash("Банк отклонил платеж. Попробуйте еще раз или другую карту.", "error")
    return render_template("pay.html", form=form, title="Пополнение баланса", amount=top_up.amount,
                           back=url_for(".account"))
