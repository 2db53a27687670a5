// API_URL is replaced at build time by scripts/build.js (from the API_URL environment variable).
const API_URL = '%API_URL%';

const status = document.getElementById('status');
const list = document.getElementById('products');
const form = document.getElementById('order');

const price = (cents) => (cents / 100).toLocaleString(undefined, { style: 'currency', currency: 'EUR' });

async function loadProducts() {
  try {
    const res = await fetch(`${API_URL}/api/products`);
    if (!res.ok) throw new Error(`API answered ${res.status}`);
    const products = await res.json();
    list.replaceChildren(
      ...products.map((p) => {
        const li = document.createElement('li');
        li.textContent = p.name;
        const span = document.createElement('span');
        span.textContent = price(p.priceCents);
        li.append(span);
        return li;
      }),
    );
    form.productId.replaceChildren(...products.map((p) => new Option(p.name, p.id)));
    status.textContent = `${products.length} products`;
    form.hidden = false;
  } catch (err) {
    status.textContent = `Cannot load products from ${API_URL}: ${err.message}`;
    status.className = 'error';
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = {
    productId: Number(form.productId.value),
    quantity: Number(form.quantity.value),
    email: form.email.value,
  };
  const res = await fetch(`${API_URL}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  status.textContent = res.ok
    ? `Order #${answer.id} placed (${answer.status ?? 'pending'}).`
    : `Order failed: ${answer.error}`;
  status.className = res.ok ? '' : 'error';
});

loadProducts();
