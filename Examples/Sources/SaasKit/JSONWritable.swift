/// A value ``JSONWriter`` can write as a JSON object.
public protocol JSONWritable: Codable, Sendable {
    /// Writes the value as one JSON object.
    func write(to writer: inout JSONWriter)
}

extension Lead: JSONWritable {
    /// `{"id":1,"email":"…","name":"…","company":null,"status":"new"}`.
    public func write(to writer: inout JSONWriter) {
        writer.raw("{\"id\":")
        writer.number(id)
        writer.raw(",\"email\":")
        writer.string(email)
        writer.raw(",\"name\":")
        writer.string(name)
        writer.raw(",\"company\":")
        writer.optionalString(company)
        writer.raw(",\"status\":")
        writer.string(status)
        writer.raw("}")
    }
}

extension Campaign: JSONWritable {
    /// `{"id":1,"name":"…","subject":"…","status":"draft"}`.
    public func write(to writer: inout JSONWriter) {
        writer.raw("{\"id\":")
        writer.number(id)
        writer.raw(",\"name\":")
        writer.string(name)
        writer.raw(",\"subject\":")
        writer.string(subject)
        writer.raw(",\"status\":")
        writer.string(status)
        writer.raw("}")
    }
}
