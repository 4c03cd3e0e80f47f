"""The storefront: catalogue, product pages, cart and checkout."""

from __future__ import annotations

from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from .cart import Cart, CartLine
from .extensions import db
from .forms import ButtonForm, CheckoutForm, QuantityForm
from .models import Coupon, Customer, Order, OrderItem, Product
from .pricing import DELIVERY

__all__ = ["bp", "current_customer"]

bp = Blueprint("shop", __name__)


def current_customer() -> Customer | None:
    """The customer this browser checked out as (the demo has no passwords)."""
    customer_id = session.get("customer_id")
    return db.session.get(Customer, customer_id) if customer_id else None


def _product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or not product.is_active:
        abort(404)
    return product


@bp.get("/")
def catalogue() -> str:
    products = db.session.scalars(db.select(Product).where(Product.is_active).order_by(Product.id)).all()
    return render_template("catalogue.html", products=products, form=QuantityForm())


@bp.get("/products/<int:product_id>")
def product(product_id: int) -> str:
    item = _product(product_id)
    form = QuantityForm(quantity=Decimal("0.1") if item.by_weight else Decimal(1))
    return render_template("product.html", product=item, form=form)


@bp.post("/cart/add/<int:product_id>")
def add_to_cart(product_id: int) -> Response:
    item = _product(product_id)
    form = QuantityForm()
    if form.validate_on_submit() and form.quantity.data > 0:
        Cart().add(item, _rounded(item, form.quantity.data))
        flash(f"«{item.name}» в корзине", "success")
    else:
        flash("Не удалось добавить товар: проверьте количество", "error")
    return redirect(request.form.get("next") or url_for(".cart"))


def _rounded(item: Product, quantity: Decimal) -> Decimal:
    """Whole pieces; weights to the gram."""
    return quantity.quantize(Decimal(1) if not item.by_weight else Decimal("0.001"))


@bp.get("/cart")
def cart() -> str:
    return render_template("cart.html", cart=Cart(), form=QuantityForm(), button=ButtonForm())


@bp.post("/cart/<int:product_id>")
def update_cart(product_id: int) -> Response:
    item = _product(product_id)
    form = QuantityForm()
    if form.validate_on_submit():
        Cart().set(item, _rounded(item, form.quantity.data))
    else:
        flash("Количество: число от 0 до 100", "error")
    return redirect(url_for(".cart"))


@bp.post("/cart/<int:product_id>/remove")
def remove_from_cart(product_id: int) -> Response:
    if ButtonForm().validate_on_submit():
        Cart().remove(_product(product_id))
    return redirect(url_for(".cart"))


@bp.route("/checkout", methods=["GET", "POST"])
def checkout() -> str | Response:
    cart = Cart()
    lines = cart.lines()
    if not lines:
        flash("Корзина пуста", "error")
        return redirect(url_for(".catalogue"))
    form = CheckoutForm()
    customers = db.session.scalars(db.select(Customer).order_by(Customer.name)).all()
    form.customer_id.choices = {"0": "Я новый покупатель"} | {str(c.id): str(c) for c in customers}
    if request.method == "GET" and (customer := current_customer()):
        form.customer_id.data, form.region.data = customer.id, customer.region
    if form.validate_on_submit():
        order = _place_order(form, lines, form.found_coupon)
        cart.clear()
        session["customer_id"] = order.customer_id
        return redirect(url_for("account.pay_order", number=order.number))
    return render_template("checkout.html", form=form, lines=lines, subtotal=sum(line.total for line in lines))


def _place_order(form: CheckoutForm, lines: list[CartLine], coupon: Coupon | None) -> Order:
    if form.customer_id.data:
        customer = db.session.get(Customer, form.customer_id.data)
    else:
        customer = Customer(name=form.name.data.strip(), email=form.email.data or None,
                            phone=form.phone.data or None, region=form.region.data)
    delivery = DELIVERY[form.delivery.data]
    order = Order(customer=customer, region=form.region.data, delivery=delivery.code,
                  address=form.address.data or "", delivery_price=delivery.price,
                  items=[OrderItem(product=line.product, name=line.product.name, price=line.product.price,
                                   quantity=line.quantity) for line in lines])
    if coupon is not None:
        order.coupon_code, order.discount = coupon.code, coupon.discount(order.subtotal)
    db.session.add(order)
    db.session.flush()
    order.number = str(1000 + order.id)
    db.session.commit()
    return order
