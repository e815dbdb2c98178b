' Office tables: the appointments of the front desk and the expense claims of the staff

TABLE appointments
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4()
    customer VARCHAR(100) NOT NULL
    service VARCHAR(20) NOT NULL
    day DATE NOT NULL
    hour VARCHAR(5) NOT NULL
    booked_at TIMESTAMP DEFAULT NOW()
END TABLE

TABLE expenses
    employee VARCHAR(100) NOT NULL
    category VARCHAR(20) NOT NULL
    amount DECIMAL(10,2) NOT NULL
    status VARCHAR(20) NOT NULL
    approval_ticket VARCHAR(20)
    submitted_at TIMESTAMP DEFAULT NOW()
END TABLE
