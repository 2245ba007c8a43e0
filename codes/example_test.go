package codes_test

import (
	"fmt"

	"github.com/ttrpc-go/ttrpc/codes"
)

func ExampleCode_String() {
	fmt.Println(codes.NotFound)
	fmt.Println(uint32(codes.NotFound))
	fmt.Println(codes.Code(42))
	// Output:
	// NotFound
	// 5
	// Code(42)
}
