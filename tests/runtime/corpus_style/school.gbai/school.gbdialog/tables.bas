' School tables: the courses on offer, the students, and who is enrolled in what

TABLE courses
    code VARCHAR(10) PRIMARY KEY
    title VARCHAR(100) NOT NULL
    capacity INTEGER NOT NULL
    starts_on DATE
END TABLE

TABLE students
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4()
    name VARCHAR(100) NOT NULL
    email VARCHAR(255) UNIQUE NOT NULL
    birth_date DATE
    registered_at TIMESTAMP DEFAULT NOW()
END TABLE

TABLE enrollments
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4()
    course_code VARCHAR(10) NOT NULL REFERENCES courses(code)
    student_id UUID NOT NULL REFERENCES students(id)
    lms_login VARCHAR(60)
    enrolled_at TIMESTAMP DEFAULT NOW()
END TABLE
