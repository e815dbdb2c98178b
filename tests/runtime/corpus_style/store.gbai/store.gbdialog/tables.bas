' Store tables: the carts of the sessions, the orders placed, and the stock of each product

TABLE cart_items
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4()
    cart_id VARCHAR(40) NOT NULL
    sku VARCHAR(20) NOT NULL
    name VARCHAR(100)
    quantity INTEGER NOT NULL
    unit_price DECIMAL(10,2)
    added_at TIMESTAMP DEFAULT NOW()
END TABLE

TABLE orders
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4()
    order_number VARCHAR(20) UNIQUE NOT NULL
    cart_id VARCHAR(40)
    customer_email VARCHAR(255)
    total DECIMAL(10,2)
    status VARCHAR(20) DEFAULT 'placed'
    carrier VARCHAR(20)
    tracking_code VARCHAR(40)
    created_at TIMESTAMP DEFAULT NOW()
END TABLE

TABLE stock
    sku VARCHAR(20) PRIMARY KEY
    name VARCHAR(100) NOT NULL
    quantity INTEGER DEFAULT 0
    minimum INTEGER DEFAULT 5
    updated_at TIMESTAMP
END TABLE
