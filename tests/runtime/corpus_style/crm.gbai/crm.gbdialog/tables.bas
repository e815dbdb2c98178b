' CRM tables: the leads the bot captures and the newsletter's subscribers

TABLE leads
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4()
    name VARCHAR(100) NOT NULL
    email VARCHAR(255) UNIQUE NOT NULL
    company VARCHAR(100)
    employees INTEGER
    score INTEGER
    stage VARCHAR(20) DEFAULT 'new'
    created_at TIMESTAMP DEFAULT NOW()
END TABLE

TABLE subscribers
    email VARCHAR(255) PRIMARY KEY
    topics VARCHAR(20)
    subscribed_at TIMESTAMP DEFAULT NOW()
END TABLE
