package s3kit_test

import (
	"fmt"

	"github.com/s3kit/s3kit"
)

// "*" stops at "/", "**" crosses it; Prefix is where a listing can start.
func ExampleGlob() {
	g, err := s3kit.CompileGlob("photos/**/*.jpg")
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"photos/a.jpg", "photos/2025/06/b.jpg", "photos/c.png", "videos/d.jpg"} {
		fmt.Println(name, g.Match(name))
	}
	fmt.Printf("prefix %q\n", g.Prefix())
	one, _ := s3kit.CompileGlob("photos/*.jpg")
	fmt.Println("photos/*.jpg matches photos/2025/b.jpg:", one.Match("photos/2025/b.jpg"))
	_, err = s3kit.CompileGlob("photos/[a-")
	fmt.Println(err)
	// Output:
	// photos/a.jpg true
	// photos/2025/06/b.jpg true
	// photos/c.png false
	// videos/d.jpg false
	// prefix "photos/"
	// photos/*.jpg matches photos/2025/b.jpg: false
	// invalid argument: pattern "photos/[a-" has an unterminated [
}
