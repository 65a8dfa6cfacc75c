import Redis
import Testing

@Suite struct RedisConfigurationTests {
    @Test func aURLGivesTheServerTheLoginAndTheDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://app:s3cret@cache.internal:6380/4")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.username == "app")
        #expect(configuration.password == "s3cret")
        #expect(configuration.database == 4)
    }

    @Test func aLoneUserPartIsThePasswordAndDefaultsFillTheRest() throws {
        let configuration = try RedisConfiguration(url: "redis://s3cret@localhost")
        #expect(configuration.username == nil)
        #expect(configuration.password == "s3cret")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        let bare = try RedisConfiguration(url: "redis://[::1]:7000")
        #expect(bare.host == "::1")
        #expect(bare.port == 7000)
        #expect(bare.password == nil)
    }

    @Test func thePasswordNeverAppearsInTheDescriptionOrInErrors() throws {
        let configuration = try RedisConfiguration(url: "redis://app:s3cret@cache:6380/4")
        #expect(configuration.description == "redis://app:<redacted>@cache:6380/4")
        for url in ["rediss://app:s3cret@cache:6380", "redis://app:s3cret@cache:6380/x", "http://app:s3cret@cache"] {
            let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
            #expect(error?.code == .misuse)
            #expect(error.map { !$0.description.contains("s3cret") } == true, "\(url)")
        }
    }

    @Test func tlsIsRefusedWithAReason() {
        let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: "rediss://cache:6380") }
        #expect(error?.message.contains("TLS") == true)
    }

    @Test func theEnvironmentVariableIsNamedWhenMissing() {
        let error = #expect(throws: RedisError.self) { try RedisConfiguration(environment: [:]) }
        #expect(error?.message.contains("REDIS_URL") == true)
    }

    @Test func validationNamesTheSetting() {
        var configuration = RedisConfiguration(host: "127.0.0.1")
        configuration.commandTimeout = .zero
        let error = #expect(throws: RedisError.self) { try configuration.validate() }
        #expect(error?.message.contains("commandTimeout") == true)
        configuration.commandTimeout = nil
        configuration.username = "app"
        #expect(throws: RedisError.self) { try configuration.validate() }
    }

    @Test func aCommandShowsItsNameNotItsArguments() {
        let command = RedisCommand("auth", "app", "s3cret")
        #expect(command.name == "AUTH")
        #expect(command.description == "AUTH (2 arguments)")
    }
}
