// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ceiling",
    targets: [
        .target(name: "CShim"),
        .executableTarget(
            name: "ceiling",
            dependencies: ["CShim"],
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked", "-wmo"])]
        ),
    ],
    swiftLanguageModes: [.v5]
)
