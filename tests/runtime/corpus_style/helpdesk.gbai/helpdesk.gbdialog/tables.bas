' Helpdesk tables: the tickets (numbered by the database) and the feedback customers leave

TABLE tickets
    email VARCHAR(255) NOT NULL
    subject VARCHAR(200) NOT NULL
    category VARCHAR(40)
    priority VARCHAR(10)
    status VARCHAR(20) DEFAULT 'open'
    opened_at TIMESTAMP DEFAULT NOW()
END TABLE

TABLE feedback
    score INTEGER NOT NULL
    grade VARCHAR(10)
    comment TEXT
    given_at TIMESTAMP DEFAULT NOW()
END TABLE
